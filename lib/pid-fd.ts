// PidFd: the public handle to one process.
import { NativePidFd } from './binding'
import { AbortError, closedError, native, timeoutError } from './errors'
import { unwatch, watch } from './event-loop'
import { isComplete, toExitInfo, type ExitInfo } from './exit-info'
import { disposeSymbol } from './dispose'
import { toSignalNumber } from './signals'
import { validatePid, validateWaitOptions, type WaitOptions } from './validate'
import { Waiters } from './waiters'

/** Told of a member's exit or close; how a PidSet follows its members. */
export interface MemberObserver {
  onMemberExit(member: PidFd, info: ExitInfo): void
  onMemberClose(member: PidFd): void
}

/** Internal: lets PidSet observe a PidFd without a promise per member. */
export const kObserve = Symbol('pidset.observe')
/** Internal: the counterpart of {@link kObserve}. */
export const kUnobserve = Symbol('pidset.unobserve')

/**
 * A race-free handle to one process (a Linux pidfd).
 *
 * It refers to the process itself, not to its number: once the process has
 * exited, `kill()` returns false instead of reaching whichever process gets
 * the PID next, and `wait()` settles without any polling.
 */
export class PidFd {
  /** The process ID the handle was opened for. */
  readonly pid: number
  #native: NativePidFd | null
  /** The exit, once known completely; it never changes after that. */
  #exit: ExitInfo | null = null
  /** Whether the exit was seen: nothing more to watch for. */
  #exited = false
  #watched = false
  #waits = new Waiters<ExitInfo>()
  #observers = new Set<MemberObserver>()

  private constructor(pid: number, handle: NativePidFd) {
    this.pid = pid
    this.#native = handle
  }

  /**
   * Opens a handle to process `pid` (`pidfd_open`, Linux 5.3+).
   * @throws {TypeError|RangeError} `ERR_INVALID_ARG_TYPE` / `ERR_OUT_OF_RANGE` for a bad `pid`.
   * @throws {Error} code `'ESRCH'` if there is no such process, `'EPERM'`/`'EMFILE'`... as the kernel says.
   */
  static open(pid: number): PidFd {
    validatePid(pid)
    return new PidFd(pid, native(pid, () => NativePidFd.open(pid)))
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
   * that has already exited settles at once.
   *
   * Rejects with code `'ETIMEDOUT'` after `options.timeout` ms, with an
   * `AbortError` when `options.signal` aborts (neither closes the handle),
   * and with code `'EBADF'` if the handle is or gets closed.
   */
  wait(options?: WaitOptions): Promise<ExitInfo> {
    try {
      const opts = validateWaitOptions(options)
      if (opts.signal?.aborted) throw new AbortError(opts.signal.reason)
      const done = this.tryWait()
      if (done) return Promise.resolve(done)
      const wait = this.#waits.add(opts, () => timeoutError(opts.timeout ?? 0, this.pid), () => this.#sync())
      try {
        this.#sync()
      } catch (err) {
        // Not watched, so it could never settle: settle it now, which also
        // stops it holding the event loop open.
        wait.reject(err)
      }
      return wait.promise
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * The exit if the process has exited, or null while it runs. Never blocks.
   * @throws {Error} code `'EBADF'` once closed.
   */
  tryWait(): ExitInfo | null {
    if (this.#exit) return this.#exit
    const handle = this.#handle()
    const report = native(this.pid, () => handle.exitInfo())
    if (!report) return null
    const info = toExitInfo(report)
    this.#exited = true
    if (isComplete(info)) this.#exit = info
    return info
  }

  /**
   * Whether the process is still running (not yet exited). Never blocks.
   * @throws {Error} code `'EBADF'` once closed.
   */
  isRunning(): boolean {
    const handle = this.#handle()
    return !this.#exited && !native(this.pid, () => handle.hasExited())
  }

  /**
   * Sends `signal` (default `'SIGTERM'`; a name like `'SIGKILL'` or a
   * number; 0 only checks that a signal could be sent).
   * @returns true if sent; false if the process had already exited, in which
   *   case nothing is sent, to it or to any process that reused its PID.
   * @throws {TypeError} `ERR_UNKNOWN_SIGNAL` / `ERR_INVALID_ARG_TYPE` for a bad signal.
   * @throws {Error} code `'EPERM'` if not permitted, `'EBADF'` once closed.
   */
  kill(signal: string | number = 'SIGTERM'): boolean {
    const number = toSignalNumber(signal)
    const handle = this.#handle()
    return native(this.pid, () => handle.sendSignal(number))
  }

  /**
   * Closes the handle; idempotent. Pending waits reject with code `'EBADF'`,
   * and the handle leaves any PidSet it is in.
   */
  close(): void {
    const handle = this.#native
    if (!handle) return
    if (this.#watched) unwatch(handle)
    this.#watched = false
    this.#native = null
    handle.close()
    // Built only when someone waits: closing is on the hot path of PidSet.
    if (this.#waits.size > 0) this.#waits.rejectAll(closedError('PidFd', this.pid))
    for (const observer of [...this.#observers]) observer.onMemberClose(this)
    this.#observers.clear()
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

  /** @internal */
  [kObserve](observer: MemberObserver): void {
    this.#handle()
    this.#observers.add(observer)
    // An exit already seen will not be reported again: tell the newcomer now.
    const info = this.#exited ? this.tryWait() : null
    if (info) observer.onMemberExit(this, info)
    else this.#sync()
  }

  /** @internal */
  [kUnobserve](observer: MemberObserver): void {
    this.#observers.delete(observer)
    this.#sync()
  }

  /** @internal Called by the event loop when the pidfd became readable. */
  onExitReady(): void {
    this.#watched = false
    if (!this.#native) return
    let info: ExitInfo | null
    try {
      info = this.tryWait()
    } catch (err) {
      this.#waits.rejectAll(err)
      return
    }
    // Readable but not exited would be spurious readiness; the kernel does
    // not do that for pidfds, but if it did, watching again is the answer.
    if (info) {
      this.#waits.resolveAll(info)
      for (const observer of [...this.#observers]) observer.onMemberExit(this, info)
    }
    this.#sync()
  }

  /** Watches the pidfd exactly while someone waits for an exit not yet seen. */
  #sync(): void {
    const want = this.#native !== null && !this.#exited && (this.#waits.size > 0 || this.#observers.size > 0)
    if (want === this.#watched || !this.#native) return
    const handle = this.#native
    if (want) native(this.pid, () => watch(handle, this))
    else unwatch(handle)
    this.#watched = want
  }

  #handle(): NativePidFd {
    if (!this.#native) throw closedError('PidFd', this.pid)
    return this.#native
  }
}
