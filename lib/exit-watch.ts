// Whether one PidFd's descriptor is watched on the event loop, and why not.
import type { NativePidFd } from './binding'
import { unwatch, watch, type ExitTarget } from './event-loop'

/**
 * The watch of one pidfd: armed while someone waits for an exit not yet
 * delivered, never twice, and not at all while the handle's owner tells
 * the exit (a spawned child's public handle: one watch and one read serve
 * both) or after a failure was reported, until asked again.
 */
export class ExitWatch {
  #watched = false
  /** The last watch ended in a failure, reported to its waiters: not re-armed until {@link retry}. */
  #failed = false
  /** The exit comes from the handle's owner, which watches the process already. */
  #fromOwner: boolean
  readonly #target: ExitTarget

  constructor(target: ExitTarget, fromOwner: boolean) {
    this.#target = target
    this.#fromOwner = fromOwner
  }

  /** Whether the last watch failed (and was not retried). */
  get failed(): boolean {
    return this.#failed
  }

  /** A new wait or observer asks for the exit: a reported failure is retried. */
  retry(): void {
    this.#failed = false
  }

  /** Watches `handle`, unless it is already or its owner tells the exit; throws if it cannot. */
  arm(handle: NativePidFd): void {
    if (this.#watched || this.#fromOwner) return
    watch(handle, this.#target)
    this.#watched = true
  }

  /** Watches `handle` exactly while `wanted` (and no failure stands). */
  sync(handle: NativePidFd | null, wanted: boolean): void {
    const want = handle !== null && wanted && !this.#failed
    if (want === this.#watched) return
    if (want) this.arm(handle)
    else this.stop(handle)
  }

  /** Stops watching (the handle closes, or the exit came another way). */
  stop(handle: NativePidFd | null): void {
    if (this.#watched && handle) unwatch(handle)
    this.#watched = false
  }

  /** The loop reported the exit (or, with `failed`, a failure to read it): the watch is over. */
  ended(failed: boolean): void {
    this.#watched = false
    this.#failed = failed
  }

  /** The owner could not learn the exit: the handle watches by itself from now on. Whether it was the owner's to tell. */
  takeOver(): boolean {
    const was = this.#fromOwner
    this.#fromOwner = false
    return was
  }
}
