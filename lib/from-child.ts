// PidFd.fromChild(): a handle to a child that child_process started.
import { constants } from 'node:os'
import { NativePidFd } from './binding'
import { invalidArgType, native, systemError } from './errors'
import type { ExitInfo } from './exit-info'
import type { SignalName } from './signals'
import { validatePid } from './validators'

/** What fromChild() reads of a ChildProcess (execa's and others' included). */
export interface ChildLike {
  readonly pid?: number | undefined
  readonly exitCode: number | null
  readonly signalCode: NodeJS.Signals | string | null
}

/**
 * Where the exit status comes from when the kernel no longer has it: a
 * child_process child that libuv reaped first, on Linux before 6.15.
 */
export type StatusFallback = () => Pick<ExitInfo, 'exitCode' | 'signal'> | null

/**
 * Opens the child's pidfd. Race-free without any check of the kernel's:
 * libuv reaps a child only from the event loop, and that sets its
 * `exitCode` or `signalCode` in the same callback, so while this runs and
 * both are null the PID is still the child's (alive or a zombie).
 */
export function openChild(child: ChildLike): { pid: number; handle: NativePidFd; fallback: StatusFallback } {
  if (child === null || typeof child !== 'object' || !('exitCode' in child) || !('signalCode' in child)) {
    throw invalidArgType('child', 'an instance of ChildProcess', child)
  }
  const { pid } = child
  if (pid === undefined) {
    throw systemError(constants.errno.ESRCH, 'pidfd_open', undefined, 'the child never started (its pid is undefined)')
  }
  validatePid(pid, 'child.pid')
  if (child.exitCode !== null || child.signalCode !== null) {
    throw systemError(constants.errno.ESRCH, 'pidfd_open', pid, 'the child has already exited and been reaped')
  }
  const handle = native(pid, () => NativePidFd.open(pid))
  let ours: boolean
  try {
    ours = native(pid, () => handle.isUnreapedChild())
  } catch (err) {
    handle.close()
    throw err
  }
  if (!ours) {
    handle.close()
    throw systemError(constants.errno.ECHILD, 'waitid', pid, 'not a child of this process')
  }
  // Node sets signalCode from its own table of signal names, the one
  // SignalName is built on; ChildLike types it wider only for look-alikes.
  const fallback: StatusFallback = () =>
    child.exitCode === null && child.signalCode === null
      ? null
      : { exitCode: child.exitCode, signal: child.signalCode as SignalName | null }
  return { pid, handle, fallback }
}
