// The internal protocol between a PidFd and the code that owns or observes
// it (PidSet, Subprocess, fromChild, peerPidFd): methods keyed by symbols
// that users cannot reach, so they are not part of the public API.
import type { ExitInfo } from './exit-info'

/**
 * How a PidSet follows a member. A PidFd tells every observer of its exit
 * (or failure) before it lets any of them serve its waits, so that one set
 * reporting the member (and closing it) cannot hide the exit from another.
 */
export interface MemberObserver<Member> {
  /** Queue the member's exit; do not settle waits yet. */
  queueExit(member: Member, info: ExitInfo): void
  /** Queue the failure to read the member's exit; do not settle waits yet. */
  queueFailure(member: Member, err: unknown): void
  /** Settle what can be settled. */
  serve(): void
  /**
   * The member was closed: by its user, or (`byOwner`) by the set that
   * opened it, once that set had reported its exit.
   */
  onMemberClose(member: Member, byOwner: boolean): void
}

/** Internal: lets PidSet observe a PidFd without a promise per member. */
export const kObserve = Symbol('pidset.observe')
/** Internal: the counterpart of {@link kObserve}. */
export const kUnobserve = Symbol('pidset.unobserve')
/** Internal: close, the descriptor itself in a microtask (see PidSet's #leave). */
export const kCloseSoon = Symbol('pidset.closeSoon')
/** Internal: watch again after a reported failure. */
export const kRetry = Symbol('pidset.retry')
/** Internal: a PidFd over a native handle opened elsewhere (spawn, fromChild). */
export const kAdopt = Symbol('pidset.adopt')
/** Internal: the exit, learned by the handle's owner (spawn reaps its children). */
export const kExitKnown = Symbol('pidset.exitKnown')
/** Internal: the owner failed to learn the exit; the handle watches by itself from now on. */
export const kExitUnknown = Symbol('pidset.exitUnknown')
/** Internal: the handle's native pidfd; throws EBADF once closed. */
export const kNative = Symbol('pidset.native')
