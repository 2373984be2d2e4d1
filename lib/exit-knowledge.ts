// What a PidFd knows of its process's exit, and how it learns more.
import { ExitState, type NativePidFd } from './binding'
import { native } from './errors'
import { isComplete, type ExitInfo } from './exit-info'
import { decodeExit, scratch } from './exit-record'
import type { StatusFallback } from './from-child'

/**
 * The exit of one process as a PidFd knows it: what it delivered to its
 * waiters and sets (once), the complete exit once seen (it never changes,
 * so everyone gets that one), and whether the process is known to have
 * exited at all.
 */
export class ExitKnowledge {
  /** The exit given to waiters and sets; set once, when it is delivered. */
  delivered: ExitInfo | null = null
  /** A complete exit (code or signal known), once seen. */
  complete: ExitInfo | null = null
  /** Whether the exit was seen (for isRunning()). */
  exited = false
  readonly #pid: number
  /** Where the status comes from when the kernel no longer has it (fromChild). */
  readonly #fallback: StatusFallback | undefined

  constructor(pid: number, fallback: StatusFallback | undefined) {
    this.#pid = pid
    this.#fallback = fallback
  }

  /** What the kernel says of the exit now, through `handle`; null while running. */
  read(handle: NativePidFd): { info: ExitInfo; final: boolean } | null {
    const state = native(this.#pid, () => handle.readExit(scratch))
    if (state === ExitState.Running) return null
    this.exited = true
    const info = this.#withFallback(decodeExit(scratch, 0, this.#pid))
    const final = state === ExitState.Exited
    if (final && isComplete(info)) this.complete = info
    return { info: this.complete ?? info, final }
  }

  /** The exit, if it has happened and nothing more will be learned of it. */
  finalExit(handle: NativePidFd): ExitInfo | null {
    const read = this.read(handle)
    return read?.final ? read.info : null
  }

  /** Takes in an exit learned elsewhere (the event loop, the handle's owner). */
  learn(info: ExitInfo): void {
    this.exited = true
    if (isComplete(info)) this.complete = info
  }

  /** Records `exit` as delivered, completed by the fallback if need be, and returns what to deliver. */
  deliver(exit: ExitInfo): ExitInfo {
    const info = this.#withFallback(exit)
    this.delivered = info
    if (isComplete(info)) this.complete = info
    return info
  }

  /** `info`, with its status from the fallback when the kernel had none. */
  #withFallback(info: ExitInfo): ExitInfo {
    if (isComplete(info) || !this.#fallback) return info
    const status = this.#fallback()
    if (!status || (status.exitCode === null && status.signal === null)) return info
    // child_process does not say whether a signal dumped core.
    const coreDumped = status.exitCode !== null ? false : null
    return Object.freeze({ ...info, exitCode: status.exitCode, signal: status.signal, coreDumped })
  }
}
