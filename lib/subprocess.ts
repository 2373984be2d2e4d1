// spawn() and Subprocess: children pidset starts and owns.
import { closeSync } from 'node:fs'
import { constants } from 'node:os'
import { pipeline, Readable, type Writable } from 'node:stream'
import { spawnChild, type NativeChild, type NativePidFd } from './binding'
import { illegalConstructor, native, spawnError } from './errors'
import type { ChildExitInfo, ExitInfo } from './exit-info'
import { assertCanWait } from './event-loop'
import { ChildExit } from './child-exit'
import { closeSoon } from './defer'
import { PidFd } from './pid-fd'
import { kAdopt, kExitKnown, kExitUnknown } from './pid-fd-protocol'
import { signalName, toSignalNumber, type Signal } from './signals'
import { pipeStream } from './pipe-stream'
import { planSpawn, type SpawnOptions, type SpawnPlan, type StdioStream } from './spawn-options'
import { guardThis, kIsInstance } from './guard-this'
import { alreadyAborted } from './validators'
import { killTreeOf, validateKillTreeOptions, type KillTreeOptions } from './tree'
import { Containment } from './containment'
import { collectOutput, decodeOutput, validateOutputOptions, type Collected, type Output, type OutputOptions } from './output'

/** Only spawn() constructs a Subprocess. */
const kCreate = Symbol('pidset.spawn')

/**
 * A child that pidset started and owns. pidset holds its pidfd from before
 * anything could reap it and is its only reaper, so its exit code or signal
 * and its resource usage are always known, on every kernel.
 *
 * `Stdin`, `Stdout` and `Stderr` are the types of its streams, as spawn()
 * infers them from the `stdio` option: a stream when piped (the default),
 * `null` when ignored or inherited.
 */
export class Subprocess<Stdin extends Writable | null = Writable | null, Stdout extends Readable | null = Readable | null, Stderr extends Readable | null = Readable | null> {
  /** @internal Whether `value` is a Subprocess (see guardThis). */
  static [kIsInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && #plan in value
  }

  /** Its PID; undefined if it could not be started. */
  readonly pid: number | undefined
  /** A handle of its own to the child (close it freely); null if it was not started. */
  readonly pidfd: PidFd | null
  /** The directory of its own cgroup, with the `cgroup` option; else null. */
  readonly cgroup: string | null = null
  /** Its stdin, when piped. */
  readonly stdin: Stdin = null as Stdin
  /** Its stdout, when piped. */
  readonly stdout: Stdout = null as Stdout
  /** Its stderr, when piped. */
  readonly stderr: Stderr = null as Stderr
  /**
   * Resolves with the exit, however it ended (a signal included); rejects
   * only if the child could not be started (with child_process's error:
   * `code` 'ENOENT', 'EACCES'..., `syscall` 'spawn <command>', `path`,
   * `spawnargs`), or with an AbortError if `signal` was already aborted.
   */
  readonly exited: Promise<ChildExitInfo>
  /** The child, owned: reaped by the poller; null once reaped. */
  #child: NativeChild | null = null
  /** A handle to it for signals and reads, the same descriptor; null once reaped. */
  #handle: NativePidFd | null = null
  /** Its exit, watched. */
  #exit: ChildExit | null = null
  /** Its cgroup, with the `cgroup` option. */
  #containment: Containment | undefined
  /** Settle `exited` (set while the child runs). */
  #resolveExited: ((info: ChildExitInfo) => void) | undefined
  #rejectExited: ((err: unknown) => void) | undefined
  #plan: SpawnPlan | undefined
  #timedOut = false
  /** Whether the timeout fired and sent `killSignal`. */
  #timeoutSent = false
  #timer: NodeJS.Timeout | undefined
  #forceTimer: NodeJS.Timeout | undefined
  #onAbort: (() => void) | undefined
  /** What output() collected (or is collecting), for every call. */
  #collected: Promise<Collected> | undefined

  /** @internal */
  constructor(token: unknown, plan?: SpawnPlan) {
    if (token !== kCreate || !plan) throw illegalConstructor('spawn()')
    this.#plan = plan
    const { request, signal } = plan
    const refused = alreadyAborted(signal) ?? waitRefusal()
    if (refused !== undefined) {
      this.pid = undefined
      this.pidfd = null
      this.exited = Promise.reject(refused)
      return
    }
    if (plan.cgroup !== undefined) {
      try {
        this.#containment = new Containment(plan.cgroup, request.killOnParentExit)
        this.cgroup = this.#containment.path
      } catch (err) {
        // No cgroup, no child: containment was asked for.
        this.pid = undefined
        this.pidfd = null
        this.exited = Promise.reject(err)
        return
      }
    }
    const streams = Int32Array.of(-1, -1, -1)
    let child: NativeChild | undefined
    let copy: NativePidFd | undefined
    try {
      // Listened to before the start: nothing that can throw (a hostile
      // signal's addEventListener) may run between starting the child and
      // handing it over, or the child would be nobody's.
      if (signal) {
        this.#onAbort = () => this.#terminate()
        signal.addEventListener('abort', this.#onAbort, { once: true })
      }
      child = spawnChild(request, streams, this.#containment?.native)
      this.#handle = child.handle()
      copy = this.#handle.duplicate()
      // Watched now, a failure thrown: a child whose exit cannot be seen
      // (epoll_ctl ENOSPC) would never be reaped, so it is undone.
      this.#exit = new ChildExit(child, {
        onExit: (info) => this.#onExit(info),
        onExitFailed: (err) => this.#onWatchFailed(err),
      })
    } catch (err) {
      this.#cleanUp()
      for (const fd of streams) if (fd >= 0) closeSync(fd)
      copy?.close()
      // Kills and reaps the child, if it was started.
      child?.discard()
      this.#handle?.close()
      this.#handle = null
      this.#exit = null
      this.#containment?.release()
      this.pid = undefined
      this.pidfd = null
      this.exited = Promise.reject(toSpawnError(err, request.file, request.args))
      return
    }
    this.pid = child.pid
    this.#child = child
    // Its exit comes from this Subprocess's own watch: one read for both.
    this.pidfd = PidFd[kAdopt](copy, true)
    // Typed by the stdio option the child was started with (see spawn()).
    this.stdin = (streams[0] >= 0 ? pipeStream(streams[0], false) : null) as Stdin
    this.stdout = (streams[1] >= 0 ? pipeStream(streams[1], true) : null) as Stdout
    this.stderr = (streams[2] >= 0 ? pipeStream(streams[2], true) : null) as Stderr
    if (plan.input !== undefined && this.stdin) writeInput(this.stdin, plan.input)
    // Settled by the watch itself, in the dispatch that reports the exit
    // (no exit can be dispatched before this constructor returns).
    this.exited = new Promise<ChildExitInfo>((resolve, reject) => {
      this.#resolveExited = resolve
      this.#rejectExited = reject
    })
    if (plan.timeout > 0) this.#timer = setTimeout(() => this.#onTimeout(), plan.timeout).unref()
  }

  /**
   * Whether `timeout` elapsed and the child died of the signal it sent
   * (`killSignal`, or SIGKILL after `forceKillAfterDelay`); false for a
   * child that exited by itself as the timeout fired. Known once `exited`
   * has settled; false before.
   */
  get timedOut(): boolean {
    return this.#timedOut
  }

  /**
   * Sends `signal` (default 'SIGTERM'), with PidFd.kill()'s guarantees.
   * Sending `killSignal` also starts `forceKillAfterDelay`.
   * @returns true if sent; false once the child has exited (or never started).
   */
  kill(signal: Signal = 'SIGTERM'): boolean {
    const number = toSignalNumber(signal)
    const sent = this.#signal(number)
    if (sent && number === this.#plan?.killSignal) this.#startForceKill()
    return sent
  }

  /**
   * Sends `signal` (default 'SIGTERM') to the child and every process
   * below it, with {@link killTree}'s guarantees (nothing escapes by
   * forking or by a parent exiting first; no stranger is signalled).
   * Resolves with how many processes were signalled (0 once the child has
   * exited), or with their exits given `wait` or `forceKillAfterDelay`.
   */
  killTree(signal: Signal | undefined, options: KillTreeOptions & ({ wait: true } | { forceKillAfterDelay: number })): Promise<ExitInfo[]>
  killTree(signal?: Signal, options?: KillTreeOptions): Promise<number>
  killTree(signal: Signal = 'SIGTERM', options?: KillTreeOptions): Promise<number | ExitInfo[]> {
    try {
      const number = toSignalNumber(signal)
      const plan = validateKillTreeOptions(options)
      // Contained: the cgroup holds the whole tree, even once the child is gone.
      if (this.#containment && plan.includeRoot) return this.#containment.kill(number, plan)
      const handle = this.#handle
      if (!handle) return Promise.resolve(plan.wait ? [] : 0)
      return killTreeOf(handle, handle.pid, number, plan)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Keeps Node alive while the child runs (the default). */
  ref(): this {
    this.#exit?.ref()
    return this
  }

  /** Lets Node exit while the child runs. */
  unref(): this {
    this.#exit?.unref()
    return this
  }

  /**
   * Collects everything the child writes to its piped stdout and stderr,
   * and its exit. Resolves once the child has exited and both streams have
   * ended, whatever the exit code; rejects if the child could not be started
   * or wrote more than `maxBuffer` bytes to a stream (see
   * {@link OutputOptions}). Throws a TypeError for bad options. The
   * streams are collected once: a later call gets the same output and
   * exit (decoded with its own `encoding`; the first call's `maxBuffer`
   * applies). A stream given an encoding with `setEncoding()` is turned
   * back into bytes, so `maxBuffer` always counts bytes.
   */
  output(options?: OutputOptions & { encoding?: BufferEncoding }): Promise<Output<string>>
  output(options: OutputOptions & { encoding: 'buffer' }): Promise<Output<Buffer>>
  output(options?: OutputOptions): Promise<Output<string | Buffer>> {
    const { encoding, maxBuffer } = validateOutputOptions(options)
    // The streams can be read once: every call gets that one collection.
    this.#collected ??= collectOutput(this.stdout, this.stderr, this.exited, maxBuffer, () => this.#terminate())
    return decodeOutput(this.#collected, encoding)
  }

  /** Kills the child with `killSignal` (SIGKILL after `forceKillAfterDelay`) and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#terminate()
    // A child that never started has a rejected `exited`: disposal handles
    // it (nothing to clean up), rather than leave it unhandled.
    await this.exited.catch(() => undefined)
  }

  /** Sends `killSignal` (then SIGKILL after `forceKillAfterDelay`); whether it was sent. */
  #terminate(): boolean {
    if (!this.#plan || !this.#signal(this.#plan.killSignal)) return false
    this.#startForceKill()
    return true
  }

  /** Sends signal `number` to the child; false once it has exited (or never started). */
  #signal(number: number): boolean {
    const handle = this.#handle
    if (!handle) return false
    return native(handle.pid, () => handle.sendSignal(number))
  }

  #onTimeout(): void {
    this.#timer = undefined
    // A child that exits by itself just now can still take the signal
    // (sent to its zombie): whether the timeout killed it is decided by
    // how it died, in #onExit.
    const handle = this.#handle
    if (handle && !native(handle.pid, () => handle.hasExited())) this.#timeoutSent = this.#terminate()
  }

  #startForceKill(): void {
    const delay = this.#plan?.forceKillAfterDelay
    if (delay === false || delay === undefined || this.#forceTimer) return
    this.#forceTimer = setTimeout(() => this.#signal(constants.signals.SIGKILL), delay).unref()
  }

  /** The exit, read as the child was reaped: with its rusage (see ChildExitInfo). */
  #onExit(info: ExitInfo): void {
    if (this.#timeoutSent && this.#plan) {
      this.#timedOut = info.signal === signalName(this.#plan.killSignal) || info.signal === 'SIGKILL'
    }
    const child = this.#child
    const handle = this.#handle
    this.#child = this.#handle = null
    try {
      // The user's handle learns it from here: the child is reaped, and
      // the kernel no longer knows its resource usage.
      this.pidfd?.[kExitKnown](info)
      // Nobody reads the child's stdin any more: close our end, as a
      // ChildProcess does at its exit, or its descriptor would stay open.
      this.stdin?.destroy()
      this.#cleanUp()
      // Removed if the child's tree ended with it; else it stays for killTree().
      this.#containment?.release()
    } finally {
      // Settled whatever the steps above did: nothing may leave it pending.
      this.#resolveExited?.(info as ChildExitInfo)
      // Native calls the code awaiting the exit need not wait for: after
      // its reactions (the descriptor is closed when both are).
      if (child) closeSoon(child)
      if (handle) closeSoon(handle)
    }
  }

  /**
   * Reading the exit failed: `exited` rejects with that, the child goes to
   * the orphan reaper, and the user's handle watches by itself.
   */
  #onWatchFailed(err: unknown): void {
    this.pidfd?.[kExitUnknown](err)
    this.#child?.close()
    this.#handle?.close()
    this.#child = this.#handle = null
    this.#cleanUp()
    this.#rejectExited?.(err)
  }

  #cleanUp(): void {
    clearTimeout(this.#timer)
    clearTimeout(this.#forceTimer)
    this.#timer = this.#forceTimer = undefined
    if (this.#onAbort) this.#plan?.signal?.removeEventListener('abort', this.#onAbort)
    this.#onAbort = undefined
  }
}

guardThis(Subprocess, [Symbol.asyncDispose])

/**
 * Why no exit could be waited for here (see assertCanWait), if so: a child
 * whose exit cannot be seen would never be reaped, so none is started.
 */
function waitRefusal(): unknown {
  try {
    assertCanWait()
    return undefined
  } catch (err) {
    return err
  }
}

/**
 * Writes `input` to the child's stdin and closes it. A child that exits
 * without reading it all makes the write fail (EPIPE): ignored, as
 * spawnSync ignores it; so is a failing input stream, which closes stdin.
 */
function writeInput(stdin: Writable, input: string | Uint8Array | Readable): void {
  if (input instanceof Readable) {
    pipeline(input, stdin, () => undefined)
    return
  }
  stdin.on('error', () => undefined)
  stdin.end(input)
}

/**
 * A failure to start, in child_process's shape. It comes from the binding
 * (a positive errno) or, for a failure to watch the child, as a system
 * error already made (Node's negative errno).
 */
function toSpawnError(err: unknown, file: string, args: readonly string[]): unknown {
  const errno = (err as { errno?: unknown } | null)?.errno
  return typeof errno === 'number' && errno !== 0 ? spawnError(Math.abs(errno), file, args) : err
}

/**
 * Starts `command` with `args`, as a child that pidset owns: see
 * {@link Subprocess}. Throws only for bad arguments (TypeError/RangeError
 * with Node's ERR_* codes), before anything is started; a child that cannot
 * be started is reported by `exited` (and `output()`), as child_process
 * reports it with its 'error' event.
 */
export function spawn<const O extends SpawnOptions = Record<never, never>>(
  command: string,
  args?: readonly string[],
  options?: O,
): Subprocess<StdioStream<O, 0, Writable>, StdioStream<O, 1, Readable>, StdioStream<O, 2, Readable>> {
  return new Subprocess(kCreate, planSpawn(command, args, options))
}
