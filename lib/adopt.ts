// PidFd.fromFd(): a pidfd from elsewhere, checked to be one.
import { constants } from 'node:os'
import type { NativePidFd } from './binding'
import { failedWith, fromNative, invalidArgValue } from './errors'

/**
 * Runs `adopt` (the binding's adoption of descriptor `fd`), turning "not a
 * pidfd" into the argument error it is.
 */
export function adoptPidfd(fd: number, adopt: () => NativePidFd): NativePidFd {
  try {
    return adopt()
  } catch (err) {
    if (failedWith(err, 'check-pidfd', constants.errno.EINVAL)) throw invalidArgValue('fd', fd, 'is not a pidfd')
    throw fromNative(err)
  }
}
