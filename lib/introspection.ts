// The shapes and argument checks of what a PidFd tells and reaches of its
// process: info(), kill() scopes, namespace() and descriptor numbers.
import { invalidArgType, invalidArgValue, outOfRange } from './errors'
import { ownOption } from './validate'

const INT32_MAX = 2 ** 31 - 1

/** What the kernel knows of a running process: `pidfd.info()`. */
export interface ProcessInfo {
  /** Its PID, in this process's PID namespace. */
  readonly pid: number
  /** Its thread-group ID: the same as `pid` for a process. */
  readonly tgid: number
  /** Its parent's PID (0 if the parent is outside this PID namespace). */
  readonly ppid: number
  /** Real user ID. */
  readonly uid: number
  /** Effective user ID. */
  readonly euid: number
  /** Saved set-user-ID. */
  readonly suid: number
  /** File-system user ID. */
  readonly fsuid: number
  /** Real group ID. */
  readonly gid: number
  /** Effective group ID. */
  readonly egid: number
  /** Saved set-group-ID. */
  readonly sgid: number
  /** File-system group ID. */
  readonly fsgid: number
  /**
   * The ID of its cgroup (v2): the inode number of its directory under
   * `/sys/fs/cgroup`, as `bigint`; null where the kernel does not say.
   */
  readonly cgroupId: bigint | null
}

/** Whom `kill()` signals: see {@link KillOptions}. */
export type SignalScope = 'process' | 'thread' | 'process-group'

/** Options of `pidfd.kill()`. */
export interface KillOptions {
  /**
   * `'process'` (default): the process, as `kill(2)`. `'thread'`: only its
   * main thread, as `tgkill(2)`. `'process-group'`: every process in the
   * group it leads, as `killpg(2)` on its PID; a running process that
   * leads no group throws `'ESRCH'` and nothing is sent. The last two need
   * Linux 6.9 (`PIDFD_SIGNAL_*`); older kernels throw `'ENOSYS'`.
   */
  scope?: SignalScope
}

const SCOPES: readonly SignalScope[] = ['process', 'thread', 'process-group']

/** The binding's index of the scope in `options` (0: process). */
export function scopeIndex(options: unknown): number {
  if (options === undefined) return 0
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  const scope = ownOption(options, 'scope') as KillOptions['scope']
  if (scope === undefined) return 0
  const index = SCOPES.indexOf(scope)
  if (index < 0) throw invalidArgValue('options.scope', scope, `must be one of ${SCOPES.map((s) => `'${s}'`).join(', ')}`)
  return index
}

/** A kind of namespace, as `pidfd.namespace()` takes it. */
export type NamespaceKind =
  | 'cgroup'
  | 'ipc'
  | 'mnt'
  | 'net'
  | 'pid'
  | 'pid_for_children'
  | 'time'
  | 'time_for_children'
  | 'user'
  | 'uts'

/** In the binding's order (crates/pidset-node/src/native_pidfd.rs, NAMESPACES). */
const NAMESPACE_KINDS: readonly NamespaceKind[] = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts']

/** The binding's index of namespace `kind`. */
export function namespaceIndex(kind: unknown): number {
  if (typeof kind !== 'string') throw invalidArgType('kind', 'of type string', kind)
  const index = NAMESPACE_KINDS.indexOf(kind as NamespaceKind)
  if (index < 0) throw invalidArgValue('kind', kind, `must be one of ${NAMESPACE_KINDS.map((k) => `'${k}'`).join(', ')}`)
  return index
}

/** Throws unless `fd` is a descriptor number: an integer from 0 to 2^31-1. */
export function validateFd(fd: unknown, name: string): asserts fd is number {
  if (typeof fd !== 'number') throw invalidArgType(name, 'of type number', fd)
  if (!Number.isInteger(fd) || fd < 0 || fd > INT32_MAX) throw outOfRange(name, `an integer >= 0 and <= ${INT32_MAX}`, fd)
}
