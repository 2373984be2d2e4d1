// The pending waits of one PidFd or PidSet, and whether they keep Node alive.
import { hold, release } from './event-loop'
import { PendingWait } from './pending-wait'
import type { WaitOptions } from './validators'

/**
 * A handle's pending waits, in the order they were made, each with a `K`
 * its owner gives (a PidSet: what the wait is for). While it has any and
 * is ref'd (the default), it holds the event loop open, like a running
 * child process does.
 */
export class Waiters<T, K = undefined> {
  #waits = new Map<PendingWait<T>, K>()
  #keepAlive = true
  #holding = false

  /**
   * Starts a wait; `onSettled` runs when it settles, however it does.
   * Throws, having started nothing, if the wait cannot be set up.
   */
  add(options: WaitOptions, onTimeout: () => Error, onSettled?: (wait: PendingWait<T>) => void, tag?: K): PendingWait<T> {
    // Take the event-loop hold first: it is what can fail (the poller cannot
    // be created), and nothing that could fire later exists yet.
    const wasEmpty = this.#waits.size === 0
    if (wasEmpty) this.#sync(true)
    let wait: PendingWait<T>
    try {
      wait = new PendingWait<T>(options, this.#keepAlive, onTimeout, (settled) => {
        this.#waits.delete(settled)
        this.#sync(this.#waits.size > 0)
        onSettled?.(settled)
      })
    } catch (err) {
      if (wasEmpty) this.#sync(false)
      throw err
    }
    this.#waits.set(wait, tag as K)
    return wait
  }

  /** The oldest pending wait and its tag. */
  first(): [PendingWait<T>, K] | undefined {
    return this.#waits.entries().next().value
  }

  get size(): number {
    return this.#waits.size
  }

  /**
   * Settles every pending wait with `value`. Their `onSettled` callbacks do
   * not run: the owner settling them all knows. This is the path of every
   * exit, so it does the least it can before the promises settle.
   */
  resolveAll(value: T): void {
    const waits = this.#waits
    this.#waits = new Map()
    for (const wait of waits.keys()) wait.resolve(value, false)
    this.#sync(false)
  }

  /** Rejects every pending wait with `err`; as {@link resolveAll}, no `onSettled`. */
  rejectAll(err: unknown): void {
    const waits = this.#waits
    this.#waits = new Map()
    for (const wait of waits.keys()) wait.reject(err, false)
    this.#sync(false)
  }

  /**
   * Resolves one of its waits, for an owner that has already accounted for
   * it: no `onSettled`. It is taken out first: settling can run user code
   * (an AbortSignal's removeEventListener) that starts another wait, and
   * the owner serving that one must not find this one still first in line.
   */
  resolve(wait: PendingWait<T>, value: T): void {
    const had = this.#waits.delete(wait)
    wait.resolve(value, false)
    // The event loop is let go after the settling (see event-loop.ts's
    // release): user code learns of the exit before the native call.
    if (had) this.#sync(this.#waits.size > 0)
  }

  /** Rejects one of its waits; as {@link resolve}, taken out first, no `onSettled`. */
  reject(wait: PendingWait<T>, err: unknown): void {
    const had = this.#waits.delete(wait)
    wait.reject(err, false)
    if (had) this.#sync(this.#waits.size > 0)
  }

  /** Whether pending waits keep the event loop alive. */
  setKeepAlive(keepAlive: boolean): void {
    this.#keepAlive = keepAlive
    for (const wait of this.#waits.keys()) wait.setKeepAlive(keepAlive)
    this.#sync(this.#waits.size > 0)
  }

  /** Holds the event loop exactly while `pending` and ref'd. */
  #sync(pending: boolean): void {
    const want = this.#keepAlive && pending
    if (want === this.#holding) return
    if (want) hold()
    else release()
    this.#holding = want
  }
}
