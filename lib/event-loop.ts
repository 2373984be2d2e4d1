// This thread's exit watcher: one epoll set on Node's loop (see
// crates/pidset-node/src/poller.rs for why), shared by every PidFd here.
import { Poller, type NativePidFd } from './binding'

/** Told once that its watched process exited. */
export interface ExitTarget {
  onExitReady(): void
}

const targets = new Map<number, ExitTarget>()
let poller: Poller | undefined
let holds = 0

function getPoller(): Poller {
  poller ??= new Poller(dispatch)
  return poller
}

function dispatch(fds: number[]): void {
  for (const fd of fds) {
    const target = targets.get(fd)
    // Each watch reports once, so the target is no longer watched.
    targets.delete(fd)
    target?.onExitReady()
  }
}

/** Reports `target` once when the process behind `pidfd` exits. */
export function watch(pidfd: NativePidFd, target: ExitTarget): void {
  getPoller().watch(pidfd)
  targets.set(pidfd.fd, target)
}

/** Stops reporting `pidfd`; must come before it is closed. */
export function unwatch(pidfd: NativePidFd): void {
  if (targets.delete(pidfd.fd)) poller?.unwatch(pidfd)
}

/** Keeps the event loop alive until the matching {@link release}. */
export function hold(): void {
  if (holds++ === 0) getPoller().ref()
}

/** Ends one {@link hold}. */
export function release(): void {
  if (--holds === 0) poller?.unref()
}
