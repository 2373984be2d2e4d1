// The shapes and argument checks of what a PidFd tells and reaches of its
// process: info(), kill() scopes, namespace() and descriptor numbers.
import { NamespaceKind as NamespaceKinds, SignalScope as SignalScopes, type ProcessInfo as NativeProcessInfo } from './binding'
import { invalidArgType } from './errors'
import { ownOption, validateInt32, validateOneOf } from './validators'

/** What the kernel knows of a running process: `pidfd.info()` (fields in binding.d.ts, from the Rust that fills them). */
export type ProcessInfo = Readonly<NativeProcessInfo>

/** Whom `kill()` signals: see {@link KillOptions}. */
export type SignalScope = `${SignalScopes}`

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

const SCOPES = Object.values(SignalScopes)

/** The scope `options` asks for (undefined: the process). */
export function validateScope(options: unknown): SignalScopes | undefined {
  if (options === undefined) return undefined
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  const scope = ownOption(options, 'scope')
  return scope === undefined ? undefined : validateOneOf(scope, 'options.scope', SCOPES)
}

/** A kind of namespace, as `pidfd.namespace()` takes it: the names of `/proc/<pid>/ns/`. */
export type NamespaceKind = `${NamespaceKinds}`

const NAMESPACE_KINDS = Object.values(NamespaceKinds)

/** Throws unless `kind` is a namespace kind. */
export function validateNamespaceKind(kind: unknown): NamespaceKinds {
  if (typeof kind !== 'string') throw invalidArgType('kind', 'of type string', kind)
  return validateOneOf(kind, 'kind', NAMESPACE_KINDS)
}

/** Throws unless `fd` is a descriptor number: an integer from 0 to 2^31-1. */
export function validateFd(fd: unknown, name: string): asserts fd is number {
  validateInt32(fd, name)
}
