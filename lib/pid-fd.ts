// PidFd: the public handle to one process.
import { NativePidFd } from './binding'
import { adoptPidfd } from './adopt'
import { closedError, illegalConstructor, invalidArgType, native, timeoutError } from './errors'
import { ExitWatch } from './exit-watch'
import { guardThis, kIsInstance } from './guard-this'
import { validateFd, validateNamespaceKind, validateScope, type KillOptions, type NamespaceKind, type ProcessInfo } from './introspection'
import type { ExitInfo } from './exit-info'
import { ExitKnowledge } from './exit-knowledge'
import { closeSoon } from './defer'
import { disposeSymbol } from './dispose'
import { toSignalNumber, type Signal } from './signals'
import { openChild, type ChildLike, type StatusFallback } from './from-child'
import { alreadyAborted, validatePid, validateWaitOptions, type WaitOptions } from './validators'
import { Waiters } from './waiters'
import { MemberObservers } from './member-observers'
import { kAdopt, kCloseSoon, kExitKnown, kExitUnknown, kNative, kObserve, kRetry, kUnobserve, type MemberObserver as Observer } from './pid-fd-protocol'

/** How a PidSet follows a PidFd (see pid-fd-protocol.ts). */
export type MemberObserver = Observer<PidFd>

/** Only PidFd.open() and the internal factories may construct a PidFd. */
const kCreate = Symbol('pidset.create')

/**
 * A race-free handle to one process (a Linux pidfd).
 *
 * It refers to the process itself, not to its number: once the process has
 * exited, `kill()` returns false instead of reaching whichever process gets
 * the PID next, and `wait()` settles without any polling.
 */
export class PidFd {
  /** @internal Whether `value` is a PidFd (see guardThis). */
  static [kIsInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && #native in value
  }

  /** The process ID the handle was opened for. */
  readonly pid: number
  #native: NativePidFd | null
  /** What is known of its exit. */
  #known: ExitKnowledge
  /** Whether its descriptor is watched on the event loop. */
  #watch: ExitWatch
  #waits = new Waiters<ExitInfo>()
  /** The sets it is in. */
  #observers = new MemberObservers<PidFd>()

  /** @throws {TypeError} `ERR_ILLEGAL_CONSTRUCTOR`: use {@link PidFd.open}. */
  private constructor(token: unknown, pid?: number, handle?: NativePidFd, statusFallback?: StatusFallback, exitFromOwner = false) {
    if (token !== kCreate || pid === undefined || handle === undefined) throw illegalConstructor()
    this.pid = pid
    this.#native = handle
    this.#known = new ExitKnowledge(pid, statusFallback)
    const target = { pid, onExit: (info: ExitInfo) => this.#onExit(info), onExitFailed: (err: unknown) => this.#onExitFailed(err) }
    this.#watch = new ExitWatch(target, exitFromOwner)
  }

  /**
   * Opens a handle to process `pid` (`pidfd_open`, Linux 5.3+).
   * @throws {TypeError|RangeError} `ERR_INVALID_ARG_TYPE` / `ERR_OUT_OF_RANGE` for a bad `pid`.
   * @throws {Error} code `'ESRCH'` if there is no such process, `'EPERM'`/`'EMFILE'`... as the kernel says.
   */
  static open(pid: number): PidFd {
    validatePid(pid)
    return new PidFd(kCreate, pid, native(pid, () => NativePidFd.open(pid)))
  }

  /**
   * A handle to a child that `child_process` started (and so execa,
   * nano-spawn, tinyexec, cross-spawn...). It never reaps: the child's own
   * `'exit'` event still fires. Its exit code or signal is always known: from
   * the kernel if pidset reads it first, else from the ChildProcess once
   * libuv has reaped it; `rusage` only in the first case (else null).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless given a ChildProcess.
   * @throws {Error} code `'ESRCH'` if the child never started or has already
   *   exited (its `exitCode` or `signalCode` is set), `'ECHILD'` if the
   *   process is not this process's child.
   */
  static fromChild(child: ChildLike): PidFd {
    const { pid, handle, fallback } = openChild(child)
    return new PidFd(kCreate, pid, handle, fallback)
  }

  /**
   * A handle to the process that pidfd `fd` refers to: one this process
   * inherited, or received from another over a Unix socket (`SCM_RIGHTS`).
   * pidset works on a duplicate (close-on-exec) of its own: `fd` stays
   * yours to close.
   * @throws {TypeError} `ERR_INVALID_ARG_VALUE` if `fd` is not a pidfd.
   * @throws {Error} code `'EBADF'` if `fd` is not open, `'ESRCH'` if its
   *   process has been reaped or is outside this PID namespace.
   */
  static fromFd(fd: number): PidFd {
    validateFd(fd, 'fd')
    return PidFd[kAdopt](adoptPidfd(fd, () => NativePidFd.adopt(fd)))
  }

  /**
   * @internal A handle over `handle`; with `exitFromOwner`, its exit is
   * told by its owner ({@link kExitKnown} or {@link kExitUnknown}) rather
   * than watched.
   */
  static [kAdopt](handle: NativePidFd, exitFromOwner = false): PidFd {
    return new PidFd(kCreate, handle.pid, handle, undefined, exitFromOwner)
  }

  /** The raw descriptor, for use with other APIs; -1 once closed. */
  get fd(): number {
    return this.#native?.fd ?? -1
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#native === null
  }

  /**
   * Waits for the process to exit, without polling and without reaping it:
   * a child spawned by `child_process` still gets its own `'exit'` event.
   * Several waits settle with the same (frozen) ExitInfo; a wait on a process
   * that has already exited settles at once. For somebody else's process on
   * Linux 6.15+, it settles when the parent reaps it (so that the exit
   * status is known), or 100 ms after the exit if the parent does not
   * (`pidset::REAP_GRACE`, decided in the core).
   *
   * Rejects with code `'ETIMEDOUT'` after `options.timeout` ms (0: never),
   * with an `AbortError` when `options.signal` aborts (neither closes the
   * handle), with code `'EBADF'` if the handle is or gets closed (a closed
   * handle whose exit was known before settles with it), and with the
   * system error if the kernel fails to tell.
   */
  wait(options?: WaitOptions): Promise<ExitInfo> {
    try {
      const opts = validateWaitOptions(options)
      const aborted = alreadyAborted(opts.signal)
      if (aborted) throw aborted
      // A complete exit needs no handle: a closed one still answers with it.
      const known = this.#known
      const done = known.delivered ?? known.complete ?? known.finalExit(this.#handle())
      if (done) return Promise.resolve(done)
      this.#watch.retry()
      // Watch before any wait exists, so that a failure (EMFILE, ENOSPC)
      // leaves nothing behind that could fire or hold the loop later.
      this.#watch.arm(this.#handle())
      try {
        return this.#waits.add(opts, () => timeoutError(opts.timeout ?? 0, this.pid), () => this.#sync()).promise
      } catch (err) {
        this.#sync()
        throw err
      }
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * The exit if the process has exited, or null while it runs. Never blocks,
   * but for a child of this process that another thread of it is reaping
   * at that moment: its status (Linux 6.15+) is waited for, 10 ms at most.
   * For somebody else's process not yet reaped by its parent, the status is
   * not known yet (`exitCode` and `signal` null); a later call may know it.
   * @throws {Error} code `'EBADF'` once closed, unless the exit was known before.
   */
  tryWait(): ExitInfo | null {
    const known = this.#known
    if (known.complete) return known.complete
    // Closed after its exit was delivered: that is what was known, as wait() says.
    if (this.#native === null && known.delivered) return known.delivered
    return known.read(this.#handle())?.info ?? null
  }

  /**
   * Whether the process is still running (not yet exited). Never blocks.
   * @throws {Error} code `'EBADF'` once closed.
   */
  isRunning(): boolean {
    const handle = this.#handle()
    return !this.#known.exited && !native(this.pid, () => handle.hasExited())
  }

  /**
   * Sends `signal` (default `'SIGTERM'`; a name like `'SIGKILL'` or a
   * number; 0 only checks that a signal could be sent).
   * @returns true if sent; false if the process had already exited, in which
   *   case nothing is sent, to it or to any process that reused its PID.
   * @throws {TypeError} `ERR_UNKNOWN_SIGNAL` / `ERR_INVALID_ARG_TYPE` for a bad signal.
   * @throws {Error} code `'EPERM'` if not permitted, `'EBADF'` once closed.
   */
  kill(signal: Signal = 'SIGTERM', options?: KillOptions): boolean {
    const number = toSignalNumber(signal)
    const scope = validateScope(options)
    const handle = this.#handle()
    return native(this.pid, () => handle.sendSignal(number, scope))
  }

  /**
   * What the kernel knows of the running process: its PID, parent,
   * credentials and cgroup (`PIDFD_GET_INFO`, Linux 6.13; before, read from
   * `/proc` and checked against the pidfd, so never another process's).
   * @throws {Error} code `'ESRCH'` once the process has exited, `'EBADF'` once closed.
   */
  info(): ProcessInfo {
    const handle = this.#handle()
    return Object.freeze(native(this.pid, () => handle.info()))
  }

  /**
   * A number that names this process and no other for as long as the
   * system runs (its pidfs inode, Linux 6.9+): the same for every handle
   * to the process, whether opened, adopted or spawned, and still after it
   * exits. A `bigint`.
   * @throws {Error} code `'ENOSYS'` before Linux 6.9, `'EBADF'` once closed.
   */
  get id(): bigint {
    const handle = this.#handle()
    return native(this.pid, () => handle.id())
  }

  /**
   * Whether `other` is a handle to the same process (not merely the same
   * PID). Exact on Linux 6.9+; before, a process that has exited equals
   * only the very same handle (never a wrong `true`).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless `other` is a PidFd.
   * @throws {Error} code `'EBADF'` if either is closed.
   */
  equals(other: PidFd): boolean {
    // By brand, not prototype: a look-alike (Object.create(PidFd.prototype)) has no handle.
    if (!PidFd[kIsInstance](other)) throw invalidArgType('other', 'an instance of PidFd', other)
    if (other === this) {
      this.#handle()
      return true
    }
    const mine = this.#handle()
    const theirs = other.#handle()
    return native(this.pid, () => mine.sameProcess(theirs))
  }

  /**
   * A copy, in this process, of the process's descriptor `targetFd`
   * (`pidfd_getfd`, Linux 5.6): both then refer to one open file, so a
   * listening socket taken this way accepts connections here
   * (`net.createServer().listen({ fd })`). The returned number is yours to
   * close; it is close-on-exec.
   * @throws {Error} code `'EPERM'` without ptrace access to the process,
   *   `'EBADF'` if `targetFd` is not open there, `'ESRCH'` once it exited,
   *   `'ENOSYS'` before Linux 5.6.
   */
  getFd(targetFd: number): number {
    validateFd(targetFd, 'targetFd')
    const handle = this.#handle()
    return native(this.pid, () => handle.getFd(targetFd))
  }

  /**
   * A descriptor for the process's namespace of `kind` (Linux 6.11), for
   * `setns(2)`, `nsenter --net=/proc/self/fd/N` or other tools. Yours to
   * close; close-on-exec.
   * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for an unknown kind.
   * @throws {Error} code `'ENOTTY'` before Linux 6.11, `'EOPNOTSUPP'` for a
   *   kind the kernel lacks, `'EPERM'` without ptrace read access, `'ESRCH'`.
   */
  namespace(kind: NamespaceKind): number {
    const checked = validateNamespaceKind(kind)
    const handle = this.#handle()
    return native(this.pid, () => handle.namespace(checked))
  }

  /**
   * Closes the handle; idempotent. Pending waits reject with code `'EBADF'`,
   * and the handle leaves any PidSet it is in, as `set.delete()` would take
   * it out (an exit the set had not yet reported is not reported).
   */
  close(): void {
    this.#close(false)
  }

  /**
   * @internal The set that opened it closes it after reporting its exit;
   * its descriptor is closed by a deferred task ({@link closeSoon}).
   */
  [kCloseSoon](): void {
    this.#close(true)
  }

  #close(byOwner: boolean): void {
    const handle = this.#native
    if (!handle) return
    this.#watch.stop(handle)
    this.#native = null
    if (byOwner) closeSoon(handle)
    else handle.close()
    // Built only when someone waits: closing is on the hot path of PidSet.
    if (this.#waits.size > 0) this.#waits.rejectAll(closedError('PidFd', this.pid))
    this.#observers.closed(this, byOwner)
  }

  /** Same as {@link close}, for `using`. */
  [disposeSymbol](): void {
    this.close()
  }

  /** Makes pending waits keep the event loop alive (the default). */
  ref(): this {
    this.#waits.setKeepAlive(true)
    return this
  }

  /** Lets the event loop exit while waits are pending. */
  unref(): this {
    this.#waits.setKeepAlive(false)
    return this
  }

  /** @internal Follows this handle's exit; throws if it cannot be watched. */
  [kObserve](observer: MemberObserver): void {
    this.#handle()
    this.#observers.add(observer)
    const delivered = this.#known.delivered
    if (delivered) {
      // Delivered before: it will not be again, so tell the newcomer now.
      observer.queueExit(this, delivered)
      observer.serve()
      return
    }
    this.#watch.retry()
    try {
      this.#sync()
    } catch (err) {
      this.#observers.delete(observer)
      throw err
    }
  }

  /** @internal */
  [kUnobserve](observer: MemberObserver): void {
    this.#observers.delete(observer)
    this.#sync()
  }

  /** @internal Watches again after a failure was reported; throws if it cannot. */
  [kRetry](): void {
    if (!this.#watch.failed || !this.#native) return
    this.#watch.retry()
    this.#sync()
  }

  #onExit(info: ExitInfo): void {
    this.#known.exited = true
    this.#watch.ended(false)
    this.#deliver(this.#known.complete ?? info)
  }

  #onExitFailed(err: unknown): void {
    this.#watch.ended(true)
    this.#waits.rejectAll(err)
    this.#observers.failed(this, err)
  }

  /** @internal The exit, as the handle's owner learned it (see spawn). */
  [kExitKnown](info: ExitInfo): void {
    this.#known.learn(info)
    if (this.#known.delivered) return
    this.#watch.stop(this.#native)
    this.#deliver(info)
  }

  /** @internal The owner could not learn the exit: watch by itself from now on. */
  [kExitUnknown](err: unknown): void {
    if (!this.#watch.takeOver()) return
    if (this.#known.delivered || !this.#native) return
    this.#onExitFailed(err)
  }

  /** Tells every waiter and observer, once, how the process ended. */
  #deliver(exit: ExitInfo): void {
    const info = this.#known.deliver(exit)
    // Waits first: they are what the exit path is measured by.
    if (this.#waits.size > 0) this.#waits.resolveAll(info)
    this.#observers.exited(this, info)
  }

  /** Watches the pidfd exactly while someone waits for an exit not yet delivered. */
  #sync(): void {
    this.#watch.sync(this.#native, this.#known.delivered === null && (this.#waits.size > 0 || this.#observers.size > 0))
  }

  /** @internal The native handle, for walks of its tree; throws EBADF once closed. */
  [kNative](): NativePidFd {
    return this.#handle()
  }

  #handle(): NativePidFd {
    if (!this.#native) throw closedError('PidFd', this.pid)
    return this.#native
  }
}

guardThis(PidFd, ['wait'])
