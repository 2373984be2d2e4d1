// How a Subprocess learns its child's exit: one watch, and the poller
// reaps the child in the same read (crates/pidset/src/exit_watcher.rs).
import type { NativeChild } from './binding'
import { hold, release, watchChild, type ExitTarget } from './event-loop'
import type { ExitInfo } from './exit-info'

/**
 * The exit of a child spawn() started, as a promise, keeping the event
 * loop alive until it comes (unless unreferenced).
 */
export class ChildExit implements ExitTarget {
  readonly pid: number
  /** Settles once: with the exit, or with the failure to read it. */
  readonly promise: Promise<ExitInfo>
  #resolve!: (info: ExitInfo) => void
  #reject!: (err: unknown) => void
  #settled = false
  #held = false

  /** Watches `child`; throws (EMFILE, ENOSPC...) without watching or holding anything. */
  constructor(child: NativeChild) {
    this.pid = child.pid
    this.promise = new Promise<ExitInfo>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    watchChild(child, this)
    this.ref()
  }

  /** @internal */
  onExit(info: ExitInfo): void {
    this.#settle()
    this.#resolve(info)
  }

  /** @internal */
  onExitFailed(err: unknown): void {
    this.#settle()
    this.#reject(err)
  }

  /** Keeps the event loop alive until the exit (the default). */
  ref(): void {
    if (this.#held || this.#settled) return
    hold()
    this.#held = true
  }

  /** Lets the event loop exit before the exit. */
  unref(): void {
    if (!this.#held) return
    this.#held = false
    release()
  }

  #settle(): void {
    this.#settled = true
    this.unref()
  }
}
