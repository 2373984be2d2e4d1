// PidSet: many processes watched at once, reported as they exit.
import { closedError, emptySetError, invalidArgType, isEmptySetError, timeoutError } from './errors'
import type { ExitInfo } from './exit-info'
import { disposeSymbol } from './dispose'
import { PidFd, type MemberObserver } from './pid-fd'
import { kCloseSoon, kObserve, kRetry, kUnobserve } from './pid-fd-protocol'
import { guardThis, kIsInstance } from './guard-this'
import { alreadyAborted, validatePid, validateWaitOptions, type WaitOptions } from './validators'
import { Waiters } from './waiters'
import { ExitQueue, type Queued as QueuedEntry } from './exit-queue'
import { Members } from './members'

/** A member's exit, with what leads back to it: see {@link PidSet.waitAnyMember}. */
export interface MemberExit<T> {
  /** How it ended. */
  exit: ExitInfo
  /** The member's handle (closed already if the set had opened it). */
  pidfd: PidFd
  /** What was given to `add()` with it; undefined if nothing was. */
  data: T | undefined
}

/** A member's exit, or the failure to read it, waiting to be reported. */
type Queued = QueuedEntry<PidFd>

/** What a pending wait on a set is: waitAny(), waitAnyMember() or waitAll(). */
type WaitKind = 'any' | 'member' | 'all'

/** What a wait on a set settles with. */
type Settled<T> = ExitInfo | ExitInfo[] | MemberExit<T>

/**
 * A set of processes watched for exit together, through one epoll set on
 * Node's event loop: no polling and no thread per process, however many.
 *
 * Members are processes, told apart by identity, never by PID alone: a
 * member that has exited but is not yet reported keeps its place even when
 * its PID goes to a new process, which joins as a member of its own. A
 * member leaves the set when it is reported (by
 * `waitAny()`, `waitAll()` or iteration) or deleted; the set closes the
 * PidFds it opened itself (those added as numbers) when they leave. A PidFd
 * may be in several sets: each reports its exit.
 */
export class PidSet<T = unknown> implements AsyncIterable<ExitInfo> {
  /** @internal Whether `value` is a PidSet (see guardThis). */
  static [kIsInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && #members in value
  }

  /** Every member, by its handle and by its PID. */
  #members = new Members<T>()
  /** Exits (and failures) not yet reported, in the order they happened. */
  #queue = new ExitQueue<PidFd>()
  /** The pending waits, served in the order they were made. */
  #waits = new Waiters<Settled<T>, WaitKind>()
  #closed = false
  #observer: MemberObserver = {
    queueExit: (pidfd, info) => this.#enqueue({ pidfd, failed: false, info }),
    queueFailure: (pidfd, error) => this.#enqueue({ pidfd, failed: true, error }),
    serve: () => this.#serve(),
    // The user closing a member takes it out, as delete() does, whether or
    // not its exit has been queued: what the user sees must not depend on
    // when the event loop dispatched the exit. The set that opened it
    // closes it once it has reported the exit, which every observer queued
    // at the same moment: the others still report it.
    onMemberClose: (pidfd, byOwner) => {
      if (!byOwner || !this.#queue.has(pidfd)) this.#remove(pidfd)
    },
  }

  /**
   * A set of `members`: PIDs (which the set opens) or PidFds. If any cannot
   * be added (a PID does not exist: code `'ESRCH'`), everything the set
   * opened so far is closed again before the error is thrown.
   */
  constructor(members?: Iterable<number | PidFd>) {
    if (members === undefined || members === null) return
    if (typeof (members as Iterable<unknown>)[Symbol.iterator] !== 'function') throw invalidArgType('members', 'an iterable of numbers or PidFds', members)
    try {
      for (const member of members) this.add(member)
    } catch (err) {
      this.close()
      throw err
    }
  }

  /**
   * Adds a member and returns its PidFd. A number is opened (and owned) by
   * the set; a PidFd stays the caller's. If the process is already a member
   * (the same process, not merely the same PID), that member is returned
   * (its data unchanged). `data` is anything that leads back to what the
   * member stands for (a job, a name): {@link waitAnyMember} gives it back
   * with the exit.
   * @throws {Error} code `'ESRCH'` if the PID does not exist, `'EBADF'` if the set or the PidFd is closed, `'EMFILE'`/`'ENOSPC'` if it cannot be watched.
   */
  add(member: number | PidFd, data?: T): PidFd {
    this.#open()
    const pid = pidOf(member)
    if (member instanceof PidFd) {
      if (member.closed) throw closedError('PidFd', pid)
      return this.#find(member) ?? this.#join(member, false, data)
    }
    // A running member with this PID is the process the PID names now.
    const running = this.#members.withPid(pid)?.find((candidate) => candidate.isRunning())
    if (running) return running
    let opened: PidFd
    try {
      opened = PidFd.open(pid)
    } catch (err) {
      // No process has the PID: it is a member's that has exited.
      const exited = this.#members.withPid(pid)
      if (exited && (err as { code?: unknown }).code === 'ESRCH') return exited[exited.length - 1]
      throw err
    }
    const same = this.#members.sameProcess(opened)
    if (same) {
      opened.close()
      return same
    }
    return this.#join(opened, true, data)
  }

  /**
   * Stops watching a member: every member with this PID, or the member
   * that is this PidFd's process. The set closes the PidFd only if it
   * opened it. Returns whether anything was a member.
   */
  delete(member: number | PidFd): boolean {
    const pid = pidOf(member)
    if (member instanceof PidFd) {
      const found = this.#find(member)
      return found !== undefined && this.#remove(found)
    }
    const found = this.#members.withPid(pid)
    if (!found) return false
    for (const pidfd of [...found]) this.#detach(pidfd)
    this.#serve()
    return true
  }

  /**
   * Whether the set has a member with this PID, or a member that is the
   * same process as this PidFd (`pidfd.equals()`: the same process, not
   * merely its PID).
   */
  has(member: number | PidFd): boolean {
    const pid = pidOf(member)
    if (!(member instanceof PidFd)) return this.#members.withPid(pid) !== undefined
    return this.#find(member) !== undefined
  }

  /** How many members it has. */
  get size(): number {
    return this.#members.size
  }

  /**
   * The member PidFds, as they are when it is called: `[...set.values()]`. A PidSet is
   * not itself iterable synchronously: it is an async iterable of exits,
   * and one type that is both makes TypeScript (5.9) type `for await` by
   * the sync iterator in some programs.
   */
  values(): IterableIterator<PidFd> {
    // Taken now, not at the first next(): later adds and deletes don't show.
    return [...this.#members.handles()].values()
  }

  /**
   * Waits for the first member to exit; it leaves the set.
   * Rejects with code `'ERR_PIDSET_EMPTY'` if the set is (or becomes)
   * empty, `'ETIMEDOUT'` or an AbortError as `options` say (nothing leaves
   * the set then), `'EBADF'` if the set is or gets closed, and with the
   * system error (naming the member's `pid`) if the kernel fails to tell of
   * a member's exit; that member stays and is watched again.
   */
  waitAny(options?: WaitOptions): Promise<ExitInfo> {
    return this.#consume('any', options) as Promise<ExitInfo>
  }

  /**
   * As {@link waitAny}, resolving with the exit, the member's handle and
   * the `data` given to `add()` with it: an exit leads back to what the
   * member stands for, with no map of PIDs to keep.
   */
  waitAnyMember(options?: WaitOptions): Promise<MemberExit<T>> {
    return this.#consume('member', options) as Promise<MemberExit<T>>
  }

  /**
   * Waits for every member to exit; all leave the set. Resolves with their
   * exits in the order they happened; `[]` for an empty set. Members added
   * while it waits are waited for too. Rejects as `waitAny()` does.
   */
  waitAll(options?: WaitOptions): Promise<ExitInfo[]> {
    return this.#consume('all', options) as Promise<ExitInfo[]>
  }

  /** Each member's exit as it happens; ends when the set is (or becomes) empty. */
  async *[Symbol.asyncIterator](): AsyncIterator<ExitInfo> {
    while (this.#members.size > 0) {
      let info: ExitInfo
      try {
        info = await this.waitAny()
      } catch (err) {
        if (isEmptySetError(err)) return
        throw err
      }
      yield info
    }
  }

  /**
   * Closes the set: pending waits reject with code `'EBADF'` and the
   * PidFds it opened are closed. Idempotent.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#waits.rejectAll(closedError('PidSet'))
    this.#queue.clear()
    for (const pidfd of [...this.#members.handles()]) this.#detach(pidfd)
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

  #consume(kind: WaitKind, options: unknown): Promise<Settled<T>> {
    try {
      const opts = validateWaitOptions(options)
      const aborted = alreadyAborted(opts.signal)
      if (aborted) throw aborted
      this.#open()
      if (kind !== 'all' && this.#members.size === 0) throw emptySetError()
      const wait = this.#waits.add(
        opts,
        () => timeoutError(opts.timeout ?? 0),
        // A waitAll that timed out or was aborted may have blocked waits behind it.
        () => this.#serve(),
        kind,
      )
      this.#serve()
      return wait.promise
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #enqueue(entry: Queued): void {
    if (this.#members.has(entry.pidfd)) this.#queue.push(entry)
  }

  /**
   * Settles whatever pending waits can be settled, first come first served.
   * Each is taken off the line before it settles, so that settling needs no
   * search and no re-entry; this is the path of every exit.
   */
  #serve(): void {
    for (;;) {
      const first = this.#waits.first()
      if (!first) return
      const [consumer, kind] = first
      if (kind !== 'all') {
        const entry = this.#queue.first()
        if (entry?.failed) {
          this.#queue.shift()
          this.#waits.reject(consumer, this.#retry(entry))
        } else if (entry) {
          this.#queue.shift()
          const { pidfd, info } = entry
          this.#waits.resolve(consumer, kind === 'any' ? info : { exit: info, pidfd, data: this.#members.get(pidfd)?.data })
          this.#leave(pidfd)
        } else if (this.#members.size === 0) {
          this.#waits.reject(consumer, emptySetError())
        } else {
          return
        }
      } else if (this.#queue.hasFailures) {
        const entry = this.#queue.takeFailure()
        if (entry) this.#waits.reject(consumer, this.#retry(entry))
      } else if (this.#queue.length === this.#members.size) {
        const entries = this.#queue.takeAll()
        this.#waits.resolve(consumer, entries.map((entry) => entry.info))
        for (const entry of entries) this.#leave(entry.pidfd)
      } else {
        return
      }
    }
  }

  /**
   * A reported member leaves the set; if the set opened it, it is closed,
   * its descriptor in a microtask queued behind the reactions to the waits
   * that reported it (so call this after settling them): closing is a
   * native call that the code waiting for the exit need not wait for.
   */
  #leave(pidfd: PidFd): void {
    const member = this.#members.get(pidfd)
    if (!member) return
    this.#members.delete(pidfd)
    pidfd[kUnobserve](this.#observer)
    if (member.owned) pidfd[kCloseSoon]()
  }

  /** A failed member stays, watched again; returns the failure to report. */
  #retry(entry: Queued & { failed: true }): unknown {
    try {
      entry.pidfd[kRetry]()
    } catch (err) {
      this.#enqueue({ pidfd: entry.pidfd, failed: true, error: err })
    }
    return entry.error
  }

  /** Removes member `pidfd`; true if it was one. */
  #remove(pidfd: PidFd): boolean {
    if (!this.#detach(pidfd)) return false
    // Removal can complete a waitAll, or empty the set under a waitAny.
    this.#serve()
    return true
  }

  /** {@link #remove} without serving waits: for use while serving them. */
  #detach(pidfd: PidFd): boolean {
    const member = this.#members.get(pidfd)
    if (!member) return false
    this.#members.delete(pidfd)
    this.#queue.remove(member.pidfd)
    member.pidfd[kUnobserve](this.#observer)
    if (member.owned) member.pidfd.close()
    return true
  }

  /** The member that is `pidfd`'s process: that handle, or another to the same process. */
  #find(pidfd: PidFd): PidFd | undefined {
    if (this.#members.has(pidfd)) return pidfd
    return pidfd.closed ? undefined : this.#members.sameProcess(pidfd)
  }

  /** Makes `pidfd` a member and watches it; nothing is left behind if that fails. */
  #join(pidfd: PidFd, owned: boolean, data?: T): PidFd {
    this.#members.add({ pidfd, owned, data })
    try {
      pidfd[kObserve](this.#observer)
    } catch (err) {
      this.#members.delete(pidfd)
      if (owned) pidfd.close()
      throw err
    }
    return pidfd
  }

  #open(): void {
    if (this.#closed) throw closedError('PidSet')
  }
}

guardThis(PidSet, ['waitAny', 'waitAnyMember', 'waitAll'])

function pidOf(member: unknown): number {
  if (member instanceof PidFd) return member.pid
  if (typeof member !== 'number') throw invalidArgType('member', 'of type number or an instance of PidFd', member)
  validatePid(member, 'member')
  return member
}
