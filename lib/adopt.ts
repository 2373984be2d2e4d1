// PidFd.fromFd(): a pidfd from elsewhere, checked to be one.
import type { NativePidFd } from './binding'
import { fromNative, invalidArgValue, type PidsetSystemError } from './errors'

/** The name the binding gives the check that a descriptor is a pidfd (crates/pidset/src/adopt.rs). */
const ADOPT_CALL = 'fdinfo Pid'

/**
 * Runs `adopt` (the binding's adoption of descriptor `fd`), turning "not a
 * pidfd" into the argument error it is.
 */
export function adoptPidfd(fd: number, adopt: () => NativePidFd): NativePidFd {
  try {
    return adopt()
  } catch (err) {
    const e = fromNative(err) as PidsetSystemError
    if (e?.code === 'EINVAL' && e.syscall === ADOPT_CALL) throw invalidArgValue('fd', fd, 'is not a pidfd')
    throw e
  }
}
