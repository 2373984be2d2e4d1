// What the running kernel offers pidset, and so what a wait can report.
import { probeKernelSupport } from './binding'
import { fromNative } from './errors'

/**
 * The pidfd features of the running kernel, probed by trying each (not read
 * from the version string, which says nothing of backports or of a seccomp
 * sandbox). What they mean for users is in README's kernel table.
 */
export interface KernelSupport {
  /** `pidfd_open` (Linux 5.3): without it, `PidFd.open` throws `ENOSYS`. */
  readonly pidfdOpen: boolean
  /** `waitid(P_PIDFD)` (5.4): the exit status and resource usage of our own children. */
  readonly waitidPidfd: boolean
  /** `PIDFD_NONBLOCK` (5.10). */
  readonly nonblock: boolean
  /** The `PIDFD_GET_INFO` ioctl (6.13). */
  readonly getInfo: boolean
  /**
   * `PIDFD_INFO_EXIT` (6.15): the exit status of any process, kept after its
   * parent reaps it. Without it, the status of a process reaped by someone
   * else first (a `child_process` child that libuv reaped, a process that is
   * not ours) can be `null`.
   */
  readonly exitInfo: boolean
  /** `pidfd_getfd` (5.6): `pidfd.getFd()`. */
  readonly getFd: boolean
  /** `SO_PEERPIDFD` (6.5): `peerPidFd()`. */
  readonly peerPidfd: boolean
  /** pidfs (6.9): `pidfd.id`, and `equals()` exact after an exit. */
  readonly pidfs: boolean
  /** `PIDFD_SIGNAL_*` (6.9): `kill(signal, { scope })` other than `'process'`. */
  readonly signalScope: boolean
  /** `PIDFD_GET_*_NAMESPACE` (6.11): `pidfd.namespace()`. */
  readonly namespaces: boolean
}

let probed: KernelSupport | undefined

/**
 * What the running kernel supports. The first call probes (it opens a pidfd
 * and starts and reaps one short-lived child); later calls return the same
 * frozen object.
 * @throws {Error} code `'EMFILE'`, `'EAGAIN'`... if the probe cannot run.
 */
export function kernelSupport(): KernelSupport {
  if (probed) return probed
  try {
    probed = Object.freeze({ ...probeKernelSupport() })
  } catch (err) {
    throw fromNative(err)
  }
  return probed
}
