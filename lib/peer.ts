// peerPidFd(): the process at the other end of a Unix-domain socket.
import { Socket } from 'node:net'
import { constants } from 'node:os'
import { NativePidFd } from './binding'
import { fromNative, invalidArgType, systemError, type PidsetSystemError } from './errors'
import { PidFd } from './pid-fd'
import { kAdopt } from './pid-fd-protocol'

/**
 * A race-free handle to the process at the other end of connected
 * Unix-domain socket `socket`: the one that connected it (or made the
 * socket pair), as it was then (`SO_PEERPIDFD`, Linux 6.5). Unlike the PID
 * `SO_PEERCRED` gives, it can never name a later process that reused the
 * PID: a server can check, watch and signal its client safely.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless given a `net.Socket`.
 * @throws {Error} code `'ENOTCONN'` for a socket not (or no longer)
 *   connected, `'ENODATA'` for one with no peer process (not Unix-domain),
 *   `'ESRCH'` when the peer has exited and been reaped, `'ENOPROTOOPT'`
 *   before Linux 6.5.
 */
/** The call errors of peerPidFd() name (lib/errors.ts knows its kernel version). */
const PEER_CALL = 'getsockopt SO_PEERPIDFD'

export function peerPidFd(socket: Socket): PidFd {
  if (!(socket instanceof Socket)) throw invalidArgType('socket', 'an instance of net.Socket', socket)
  // The descriptor of a connected socket; libuv's handle holds it.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd
  if (typeof fd !== 'number' || fd < 0) {
    throw systemError(constants.errno.ENOTCONN, PEER_CALL, undefined, 'the socket is not connected')
  }
  try {
    return PidFd[kAdopt](NativePidFd.fromPeer(fd))
  } catch (err) {
    const e = fromNative(err) as PidsetSystemError
    if (e?.code === 'ENODATA') throw systemError(constants.errno.ENODATA, e.syscall, undefined, 'the socket has no peer process: it is not a Unix-domain socket')
    // The kernel refuses a reaped peer (EINVAL before pidfs, Linux 6.9:
    // pidfd_prepare finds no thread group), or hands over a pidfd whose
    // process is already gone (ESRCH when the binding reads its PID): one answer.
    if (e?.code === 'ESRCH' || (e?.code === 'EINVAL' && e.syscall === PEER_CALL)) throw systemError(constants.errno.ESRCH, PEER_CALL, undefined, 'the peer process has exited and been reaped')
    throw e
  }
}
