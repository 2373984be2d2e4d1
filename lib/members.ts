// The members of one PidSet, by handle and by PID.
import type { PidFd } from './pid-fd'

/** One member of a PidSet. */
export interface Member<T> {
  pidfd: PidFd
  /** Whether the set opened it (from a number), and so closes it. */
  owned: boolean
  /** What the caller gave add() with it, for waitAnyMember(). */
  data: T | undefined
}

/**
 * A set's members, found by handle or by PID. A PID has one member, except
 * while a member that has exited (its PID free again) waits to be reported
 * and a new process with its PID has joined.
 */
export class Members<T> {
  #byHandle = new Map<PidFd, Member<T>>()
  #byPid = new Map<number, PidFd[]>()

  get size(): number {
    return this.#byHandle.size
  }

  get(pidfd: PidFd): Member<T> | undefined {
    return this.#byHandle.get(pidfd)
  }

  has(pidfd: PidFd): boolean {
    return this.#byHandle.has(pidfd)
  }

  /** The members with PID `pid`, oldest first; undefined if none. */
  withPid(pid: number): readonly PidFd[] | undefined {
    return this.#byPid.get(pid)
  }

  /** The member, other than `pidfd` itself, that is the same process as it. */
  sameProcess(pidfd: PidFd): PidFd | undefined {
    return this.#byPid.get(pidfd.pid)?.find((candidate) => candidate !== pidfd && candidate.equals(pidfd))
  }

  /** The handles, in the order they joined. */
  handles(): IterableIterator<PidFd> {
    return this.#byHandle.keys()
  }

  add(member: Member<T>): void {
    const { pidfd } = member
    this.#byHandle.set(pidfd, member)
    const same = this.#byPid.get(pidfd.pid)
    if (same) same.push(pidfd)
    else this.#byPid.set(pidfd.pid, [pidfd])
  }

  delete(pidfd: PidFd): void {
    this.#byHandle.delete(pidfd)
    const same = this.#byPid.get(pidfd.pid)
    if (!same) return
    if (same.length === 1) this.#byPid.delete(pidfd.pid)
    else same.splice(same.indexOf(pidfd), 1)
  }
}
