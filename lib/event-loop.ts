// This thread's exit watcher: one epoll set, shared by every PidFd here,
// driven by Node's libuv loop or, where there is none (Bun, Deno), by a
// thread of the binding's (see crates/pidset-node/src/poller.rs for why).
import { constants } from 'node:os'
import { ExitState, Poller, type NativeChild, type NativePidFd } from './binding'
import { defer } from './defer'
import { ERROR_CODES, failedWith, fromNative, invalidArgValue, unsupportedRuntime } from './errors'
import type { ExitInfo } from './exit-info'
import { RECORD_LEN, decodeExit, failureIndex, recordFd, recordState } from './exit-record'

/**
 * What the event loop tells about a watched process, once: the core
 * decides when an exit is final (see crates/pidset/src/exit_watcher.rs),
 * and the process is no longer watched after either call.
 */
export interface ExitTarget {
  readonly pid: number
  /** It exited, and this is all that will be known of it. */
  onExit(info: ExitInfo): void
  /** Reading its exit failed. */
  onExitFailed(err: unknown): void
}

const targets = new Map<number, ExitTarget>()
let poller: Poller | undefined
let holds = 0
/** Whether the poller keeps the loop alive now (it lags `holds` by a microtask). */
let referenced = false
let unrefQueued = false

/** The poller, created on first use; throws (EMFILE...) if it cannot be. */
function getPoller(): Poller {
  poller ??= createPoller()
  return poller
}

/**
 * Which front-end drives the watcher: `PIDSET_FRONTEND=portable` (or
 * `libuv`) chooses; by default libuv where the runtime has it (Node), the
 * portable one where it is known not to (Bun exports libuv's names, but
 * uv_poll_init aborts the process there: oven-sh/bun#18546).
 */
function frontEnd(): 'libuv' | 'portable' | 'auto' {
  const chosen = process.env.PIDSET_FRONTEND
  if (chosen === 'libuv' || chosen === 'portable') return chosen
  if (chosen !== undefined && chosen !== '') throw invalidArgValue('process.env.PIDSET_FRONTEND', chosen, "must be 'libuv' or 'portable'")
  return process.versions.bun !== undefined || 'Deno' in globalThis ? 'portable' : 'auto'
}

function createPoller(): Poller {
  const mode = frontEnd()
  if (mode !== 'portable') {
    try {
      return new Poller(dispatch)
    } catch (err) {
      // No libuv in the process: unless libuv was asked for, go portable.
      if (!(mode === 'auto' && failedWith(err, 'libuv-loop', constants.errno.ENOSYS))) throw fromNative(err)
    }
  }
  try {
    return new Poller(dispatch, true)
  } catch (err) {
    const e = fromNative(err) as { code?: unknown }
    // Neither libuv nor threadsafe functions: nothing can wake this thread.
    if (e.code === ERROR_CODES.NAPI) throw unsupportedRuntime(runtimeName(), e)
    throw e
  }
}

/** The name of the runtime this is, for errors. */
function runtimeName(): string {
  if (process.versions.bun !== undefined) return 'Bun'
  return 'Deno' in globalThis ? 'Deno' : 'this runtime'
}

function dispatch(count: number, records: Float64Array, failures?: unknown[] | null): void {
  let thrown: { err: unknown } | undefined
  // Only the first `count` records are this batch's (the array is reused).
  const end = count * RECORD_LEN
  for (let at = 0; at < end; at += RECORD_LEN) {
    const fd = recordFd(records, at)
    const target = targets.get(fd)
    if (target === undefined) continue
    targets.delete(fd)
    try {
      if (recordState(records, at) === ExitState.Failed) target.onExitFailed(fromNative(failures?.[failureIndex(records, at)], target.pid))
      else target.onExit(decodeExit(records, at, target.pid))
    } catch (err) {
      thrown ??= { err }
    }
  }
  // One target's fault must not cost the others their exits: it surfaces
  // after the batch, as an exception thrown by an event listener would.
  if (thrown) throw thrown.err
}

/**
 * Throws if exits cannot be waited for on this thread (the poller cannot
 * be created: EMFILE, or a runtime without libuv): for work that must not
 * start unless its end can be seen, as a child that nobody would reap.
 */
export function assertCanWait(): void {
  getPoller()
}

/**
 * Reports `target` once when the process behind `pidfd` exits. Throws (the
 * poller could not be created, or epoll_ctl failed) without watching.
 */
export function watch(pidfd: NativePidFd, target: ExitTarget): void {
  arm(pidfd.fd, target, (p) => p.watch(pidfd))
}

/**
 * Reports `target` once when `child`, a child spawn() started, exits; the
 * poller reaps it as it reads the exit. Throws without watching, as
 * {@link watch} does.
 */
export function watchChild(child: NativeChild, target: ExitTarget): void {
  arm(child.fd, target, (p) => p.watchChild(child))
}

function arm(fd: number, target: ExitTarget, register: (p: Poller) => void): void {
  const p = getPoller()
  try {
    register(p)
  } catch (err) {
    throw fromNative(err, target.pid)
  }
  targets.set(fd, target)
}

/** Stops reporting `pidfd`; must come before it is closed. */
export function unwatch(pidfd: NativePidFd): void {
  if (targets.delete(pidfd.fd)) poller?.unwatch(pidfd)
}

/** Keeps the event loop alive until the matching {@link release}. Throws, holding nothing, if the poller cannot be created. */
export function hold(): void {
  if (holds === 0 && !referenced) {
    getPoller().ref()
    referenced = true
  }
  holds++
}

/** Ends one {@link hold}. */
export function release(): void {
  if (holds === 0) return
  if (--holds === 0 && !unrefQueued) {
    // The last hold usually ends as an exit settles its waits. Letting go of
    // the loop is a native call, so it waits for a microtask queued behind
    // the waits' own reactions: user code learns of the exit first, and a
    // wait it starts at once (waiting in a loop) keeps the loop with no
    // native call at all. Microtasks run before libuv next checks whether
    // the loop is alive, so the loop is let go exactly as before.
    unrefQueued = true
    defer(letGo)
  }
}

function letGo(): void {
  unrefQueued = false
  if (holds > 0 || !referenced) return
  poller?.unref()
  referenced = false
}
