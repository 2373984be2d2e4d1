// This thread's exit watcher: one epoll set on Node's loop (see
// crates/pidset-node/src/poller.rs for why), shared by every PidFd here.
import { ExitState } from '../binding'
import { Poller, type NativePidFd } from './binding'
import { fromNative } from './errors'
import type { ExitInfo } from './exit-info'
import { RECORD_LEN, decodeExit, failureIndex, recordFd, recordState } from './exit-record'

/** What the event loop tells about a watched process. */
export interface ExitTarget {
  readonly pid: number
  /**
   * It exited. `final` false: its status comes at its reap, and it stays
   * watched for that (unwatch to stop); true: it is no longer watched.
   */
  onExit(info: ExitInfo, final: boolean): void
  /** Reading its exit failed; it is no longer watched. */
  onExitFailed(err: unknown): void
}

const targets = new Map<number, ExitTarget>()
let poller: Poller | undefined
let holds = 0

/** The poller, created on first use; throws (EMFILE...) if it cannot be. */
function getPoller(): Poller {
  poller ??= createPoller()
  return poller
}

function createPoller(): Poller {
  try {
    return new Poller(dispatch)
  } catch (err) {
    throw fromNative(err)
  }
}

function dispatch(records: Float64Array, failures: unknown[] | undefined): void {
  let thrown: { err: unknown } | undefined
  for (let at = 0; at < records.length; at += RECORD_LEN) {
    const fd = recordFd(records, at)
    const target = targets.get(fd)
    if (target === undefined) continue
    const state = recordState(records, at)
    if (state !== ExitState.Exiting) targets.delete(fd)
    try {
      if (state === ExitState.Failed) target.onExitFailed(fromNative(failures?.[failureIndex(records, at)], target.pid))
      else target.onExit(decodeExit(records, at, target.pid), state === ExitState.Exited)
    } catch (err) {
      thrown ??= { err }
    }
  }
  // One target's fault must not cost the others their exits: it surfaces
  // after the batch, as an exception thrown by an event listener would.
  if (thrown) throw thrown.err
}

/**
 * Reports `target` once when the process behind `pidfd` exits. Throws (the
 * poller could not be created, or epoll_ctl failed) without watching.
 */
export function watch(pidfd: NativePidFd, target: ExitTarget): void {
  const p = getPoller()
  try {
    p.watch(pidfd)
  } catch (err) {
    throw fromNative(err, target.pid)
  }
  targets.set(pidfd.fd, target)
}

/** Stops reporting `pidfd`; must come before it is closed. */
export function unwatch(pidfd: NativePidFd): void {
  if (targets.delete(pidfd.fd)) poller?.unwatch(pidfd)
}

/** Keeps the event loop alive until the matching {@link release}. Throws, holding nothing, if the poller cannot be created. */
export function hold(): void {
  if (holds === 0) getPoller().ref()
  holds++
}

/** Ends one {@link hold}. */
export function release(): void {
  if (holds === 0) return
  if (--holds === 0) poller?.unref()
}
