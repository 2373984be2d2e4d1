// The observers of one PidFd (the PidSets it is in), told of its exit,
// failure or close in the order the protocol requires.
import type { ExitInfo } from './exit-info'
import type { MemberObserver } from './pid-fd-protocol'

/**
 * Usually none or one observer: an array, cheaper than a Set on the path
 * of every exit. Each notification works on a copy, since an observer may
 * leave (or another join) while it is told.
 */
export class MemberObservers<Member> {
  #list: MemberObserver<Member>[] = []

  get size(): number {
    return this.#list.length
  }

  /** Adds `observer` once. */
  add(observer: MemberObserver<Member>): void {
    if (!this.#list.includes(observer)) this.#list.push(observer)
  }

  delete(observer: MemberObserver<Member>): void {
    const at = this.#list.indexOf(observer)
    if (at >= 0) this.#list.splice(at, 1)
  }

  /** Every observer queues the exit before any serves its waits (see MemberObserver). */
  exited(member: Member, info: ExitInfo): void {
    const list = this.#list
    if (list.length === 0) return
    if (list.length === 1) {
      // The usual case (one set), on the path of every exit: no copy.
      const observer = list[0]
      observer.queueExit(member, info)
      observer.serve()
      return
    }
    const copy = list.slice()
    for (const observer of copy) observer.queueExit(member, info)
    for (const observer of copy) observer.serve()
  }

  /** As {@link exited}, for a failure to learn the exit. */
  failed(member: Member, err: unknown): void {
    const list = this.#list.slice()
    for (const observer of list) observer.queueFailure(member, err)
    for (const observer of list) observer.serve()
  }

  /** The member was closed: every observer is told, and forgotten. */
  closed(member: Member, byOwner: boolean): void {
    const list = this.#list
    this.#list = []
    for (const observer of list) observer.onMemberClose(member, byOwner)
  }
}
