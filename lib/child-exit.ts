// How a Subprocess learns its child's exit: one watch, and the poller
// reaps the child in the same read (crates/pidset/src/exit_watcher.rs).
import type { NativeChild } from './binding'
import { hold, release, watchChild, type ExitTarget } from './event-loop'
import type { ExitInfo } from './exit-info'

/** Told once, from the event loop's dispatch, how the watch of a child ended. */
export interface ChildExitHandler {
  /** The child exited (and is reaped). */
  onExit(info: ExitInfo): void
  /** Reading its exit failed: it may not be reaped. */
  onExitFailed(err: unknown): void
}

/**
 * The watch of a child spawn() started, keeping the event loop alive until
 * its exit comes (unless unreferenced). The exit is handed on in the same
 * dispatch, with no promise in between: the Subprocess settles `exited`
 * itself, one promise and one microtask fewer per child.
 */
export class ChildExit implements ExitTarget {
  readonly pid: number
  #handler: ChildExitHandler
  #settled = false
  #held = false

  /** Watches `child`; throws (EMFILE, ENOSPC...) without watching or holding anything. */
  constructor(child: NativeChild, handler: ChildExitHandler) {
    this.pid = child.pid
    this.#handler = handler
    watchChild(child, this)
    this.ref()
  }

  /** @internal */
  onExit(info: ExitInfo): void {
    this.#settle()
    this.#handler.onExit(info)
  }

  /** @internal */
  onExitFailed(err: unknown): void {
    this.#settle()
    this.#handler.onExitFailed(err)
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
