// A PidSet's exits that have happened and are not yet reported, in order.
import type { ExitInfo } from './exit-info'

/** A member's exit, or the failure to read it, waiting to be reported. */
export type Queued<M> = { pidfd: M; failed: false; info: ExitInfo } | { pidfd: M; failed: true; error: unknown }

/** A queued exit (not a failure). */
export type QueuedExit<M> = Queued<M> & { failed: false }

/**
 * The exits (and failures to read one) of a set's members, in the order
 * they happened, at most one per member; O(1) to ask whether a member has
 * one waiting.
 */
export class ExitQueue<M> {
  #entries: Queued<M>[] = []
  /** The members with an entry, for O(1) lookups. */
  #queued = new Set<M>()
  #failures = 0

  /** How many entries wait. */
  get length(): number {
    return this.#entries.length
  }

  /** Whether any waiting entry is a failure. */
  get hasFailures(): boolean {
    return this.#failures > 0
  }

  /** Whether `member` has an entry waiting. */
  has(member: M): boolean {
    return this.#queued.has(member)
  }

  /** Adds `entry`, unless its member has one waiting already. */
  push(entry: Queued<M>): void {
    if (this.#queued.has(entry.pidfd)) return
    this.#entries.push(entry)
    this.#queued.add(entry.pidfd)
    if (entry.failed) this.#failures++
  }

  /** The oldest entry, left in place. */
  first(): Queued<M> | undefined {
    return this.#entries[0]
  }

  /** Takes the oldest entry off. */
  shift(): Queued<M> | undefined {
    const entry = this.#entries.shift()
    if (entry) this.#forget(entry)
    return entry
  }

  /** Takes the oldest failure off. */
  takeFailure(): (Queued<M> & { failed: true }) | undefined {
    const index = this.#entries.findIndex((e) => e.failed)
    if (index < 0) return undefined
    const [entry] = this.#entries.splice(index, 1)
    this.#forget(entry)
    return entry as Queued<M> & { failed: true }
  }

  /**
   * Takes every exit off in one go (call it when there are no failures),
   * so that waitAll() over N members stays O(N).
   */
  takeAll(): QueuedExit<M>[] {
    const entries = this.#entries.filter((entry): entry is QueuedExit<M> => !entry.failed)
    this.clear()
    return entries
  }

  /** Takes `member`'s entry off, if it has one. */
  remove(member: M): void {
    if (!this.#queued.has(member)) return
    const index = this.#entries.findIndex((e) => e.pidfd === member)
    const [entry] = this.#entries.splice(index, 1)
    this.#forget(entry)
  }

  /** Empties it. */
  clear(): void {
    this.#entries = []
    this.#queued.clear()
    this.#failures = 0
  }

  #forget(entry: Queued<M>): void {
    this.#queued.delete(entry.pidfd)
    if (entry.failed) this.#failures--
  }
}
