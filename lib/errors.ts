// Every error pidset throws or rejects with is built here, in Node's shapes,
// and every code it can carry is declared here once (ERROR_CODES).
import { getSystemErrorMap, getSystemErrorName, inspect } from 'node:util'
import { constants } from 'node:os'
import type { Operation } from '../binding'

/**
 * The codes of pidset's own errors (system errors carry the errno name
 * instead: 'ESRCH', 'EPERM', 'EBADF', 'ETIMEDOUT'...).
 */
export const ERROR_CODES = {
  /** An argument of the wrong type. */
  INVALID_ARG_TYPE: 'ERR_INVALID_ARG_TYPE',
  /** An argument of the right type but a value that cannot be used. */
  INVALID_ARG_VALUE: 'ERR_INVALID_ARG_VALUE',
  /** A number outside its range. */
  OUT_OF_RANGE: 'ERR_OUT_OF_RANGE',
  /** An encoding Buffer does not know. */
  UNKNOWN_ENCODING: 'ERR_UNKNOWN_ENCODING',
  /** A child wrote more than `maxBuffer` bytes to a stream `output()` collects. */
  MAXBUFFER: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER',
  /** A signal name or number that does not exist. */
  UNKNOWN_SIGNAL: 'ERR_UNKNOWN_SIGNAL',
  /** A method called on something that is not an instance of its class. */
  INVALID_THIS: 'ERR_INVALID_THIS',
  /** `new PidFd()` or `new Subprocess()`: they come from `PidFd.open()` and `spawn()`. */
  ILLEGAL_CONSTRUCTOR: 'ERR_ILLEGAL_CONSTRUCTOR',
  /** An aborted wait (AbortError, as Node's own). */
  ABORT: 'ABORT_ERR',
  /** `waitAny()` on an empty PidSet. */
  PIDSET_EMPTY: 'ERR_PIDSET_EMPTY',
  /** The platform has no prebuilt binary. */
  UNSUPPORTED_PLATFORM: 'ERR_PIDSET_UNSUPPORTED_PLATFORM',
  /** The platform is supported but its binary package is missing. */
  BINARY_MISSING: 'ERR_PIDSET_BINARY_MISSING',
  /** Waiting for exits under a runtime without libuv's uv_poll (Bun, Deno). */
  UNSUPPORTED_RUNTIME: 'ERR_PIDSET_UNSUPPORTED_RUNTIME',
  /** A Node-API call failed inside the addon (a bug or an exhausted runtime). */
  NAPI: 'ERR_PIDSET_NAPI',
} as const

/** Fields of a system error, as on Node's own (`err.code === 'ESRCH'`...). */
export interface PidsetSystemError extends Error {
  /** The errno name, for example `'ESRCH'`. */
  code: string
  /** The negative errno, as Node reports it (`-3` for ESRCH). */
  errno: number
  /** The system call that failed, when one did. */
  syscall?: string
  /** The process the operation was about. */
  pid?: number
}

let errorMap: Map<number, [string, string]> | undefined
/** Node builds a fresh map of every errno on each call: build it once. */
function systemErrorMap(): Map<number, [string, string]> {
  errorMap ??= getSystemErrorMap()
  return errorMap
}

let errnoNames: Map<number, string> | undefined
/** The name of a positive errno; libuv's table lacks some (ECHILD). */
function errnoName(errno: number): string {
  const name = getSystemErrorName(-errno)
  if (!name.startsWith('Unknown')) return name
  errnoNames ??= new Map(Object.entries(constants.errno).map(([n, v]) => [v, n]))
  return errnoNames.get(errno) ?? name
}

/** The error of a failed or refused operation on process `pid`. */
export function systemError(errno: number, syscall: string | undefined, pid: number | undefined, detail?: string): PidsetSystemError {
  const code = errnoName(errno)
  const description = detail ?? systemErrorMap().get(-errno)?.[1] ?? 'unknown error'
  const about = pid === undefined ? '' : ` (pid ${pid})`
  const err = new Error(`${syscall ? `${syscall} ` : ''}${code}: ${description}${about}`) as PidsetSystemError
  err.code = code
  err.errno = -errno
  if (syscall !== undefined) err.syscall = syscall
  if (pid !== undefined) err.pid = pid
  return err
}

/**
 * The operations the binding names on the failures it hands over
 * (crates/pidset-node/src/kinds.rs, `Operation`), by their values.
 */
export type OperationName = `${Operation}`

/** A failure as the binding hands it over (crates/pidset-node/src/error.rs). */
interface NativeFailure {
  errno?: unknown
  syscall?: unknown
  pid?: unknown
  /** The operation, when it is one that is told apart. */
  operation?: OperationName
  /** The first Linux release that has the operation. */
  since?: unknown
  napiCall?: unknown
  napiStatus?: unknown
}

/** Whether `err`, as the binding threw it, is `operation` failing with positive `errno`. */
export function failedWith(err: unknown, operation: OperationName, errno: number): boolean {
  const e = err as NativeFailure | null
  return e?.operation === operation && e.errno === errno
}

/**
 * The detail of a failure, where its operation and errno say more than the
 * errno's own description.
 */
function detailOf(errno: number, syscall: string, failure: NativeFailure): string | undefined {
  const { ENOSYS, ENOTTY, ENOPROTOOPT, EPERM, EACCES, ESRCH } = constants.errno
  const { operation, since } = failure
  // ENOSYS for a system call or flag, ENOTTY for an ioctl, ENOPROTOOPT for a
  // socket option: this kernel does not have it.
  if (errno === ENOSYS || errno === ENOTTY || errno === ENOPROTOOPT) {
    if (typeof since === 'string') return `${syscall} is not supported by this kernel: it needs Linux ${since} or newer`
    if (errno === ENOSYS) return `${syscall} is not supported by this kernel; pidset needs Linux 5.3 or newer`
  }
  // No permission check guards pidfd_open, so EPERM/EACCES there means a
  // seccomp filter or security module (a container's default profile, a sandbox).
  if (operation === 'open-pidfd' && (errno === EPERM || errno === EACCES)) {
    return 'pidfds are forbidden here by the kernel or a sandbox (a seccomp filter or security module, as in some container profiles)'
  }
  // A cgroup of the child's own could not be made or joined: say what to do.
  if (operation === 'cgroup' && [EPERM, EACCES, constants.errno.EROFS, constants.errno.ENOENT].includes(errno)) {
    const why = errno === constants.errno.ENOENT ? 'no cgroup v2 hierarchy is mounted here, or the directory given is not a cgroup' : 'this process may not create or join a cgroup there'
    return `cannot contain the child in a cgroup of its own: ${why}. Run this process in a cgroup it may write to (for example \`systemd-run --user --scope -p Delegate=yes node app.js\`), or give the cgroup option the path of a delegated cgroup v2 directory; nothing was started`
  }
  // The flag reaches only the group the process leads (the binding answers
  // `false`, not this, once the process has exited).
  if (operation === 'signal-process-group' && errno === ESRCH) {
    return 'the process leads no process group, and the process-group scope reaches only the group it leads (start it with detached: true); nothing was sent'
  }
  return undefined
}

/**
 * Turns a failure from the binding into what users see: a system error for
 * a failed system call (named with Node's own errno tables), an
 * ERR_PIDSET_NAPI error for a failed Node-API call. Anything else (an
 * argument napi-rs itself refused) passes through.
 */
export function fromNative(err: unknown, pid?: number): unknown {
  const e = err as NativeFailure | null
  if (e && typeof e.errno === 'number' && typeof e.syscall === 'string') {
    return systemError(e.errno, e.syscall, typeof e.pid === 'number' ? e.pid : pid, detailOf(e.errno, e.syscall, e))
  }
  if (e && typeof e.napiCall === 'string') {
    return coded(new Error(`pidset: ${e.napiCall} failed with Node-API status ${String(e.napiStatus)}`, { cause: err }), ERROR_CODES.NAPI)
  }
  return err
}

/** Calls the binding, converting its errors with {@link fromNative}. */
export function native<T>(pid: number | undefined, call: () => T): T {
  try {
    return call()
  } catch (err) {
    throw fromNative(err, pid)
  }
}

/** The error of using a handle after close(): EBADF, as the kernel says. */
export function closedError(what: 'PidFd' | 'PidSet', pid?: number): PidsetSystemError {
  return systemError(constants.errno.EBADF, undefined, pid, `${what} is closed`)
}

/** The rejection of a wait whose `timeout` elapsed. */
export function timeoutError(timeout: number, pid?: number): PidsetSystemError {
  return systemError(constants.errno.ETIMEDOUT, undefined, pid, `wait timed out after ${timeout} ms`)
}

/** A Node-style error with a `code`. */
export type CodedError<E extends Error = Error> = E & { code: string }

function coded<E extends Error>(err: E, code: string): CodedError<E> {
  return Object.assign(err, { code })
}

/** `waitAny()` on a set with no members. */
export function emptySetError(): CodedError {
  return coded(new Error('The PidSet is empty: there is nothing to wait for'), ERROR_CODES.PIDSET_EMPTY)
}

/** Whether `err` is the error of {@link emptySetError}. */
export function isEmptySetError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === ERROR_CODES.PIDSET_EMPTY
}

/** `new PidFd()` or `new Subprocess()` from outside: TypeError, as Node's own classes throw it. */
export function illegalConstructor(use = 'PidFd.open(pid)'): CodedError<TypeError> {
  return coded(new TypeError(`Illegal constructor: use ${use}`), ERROR_CODES.ILLEGAL_CONSTRUCTOR)
}

/** A platform without a binary, or a binary package that did not install. */
export function loadError(message: string, cause: unknown, supported: boolean): CodedError {
  return coded(new Error(message, { cause }), supported ? ERROR_CODES.BINARY_MISSING : ERROR_CODES.UNSUPPORTED_PLATFORM)
}

/**
 * Waiting for exits under a runtime that gives addons neither libuv nor
 * threadsafe functions, so that nothing can wake its JavaScript thread;
 * `cause` is what the binding said.
 */
export function unsupportedRuntime(runtime: string, cause?: unknown): CodedError {
  const message =
    `pidset cannot wait for exits under ${runtime}: it offers Node-API addons neither libuv nor threadsafe functions, ` +
    'so nothing can wake JavaScript when a process exits. Handles, kill(), tryWait(), isRunning() and info() work; ' +
    'wait(), PidSet waits and spawn() need Node.js (20 or later), Bun or Deno'
  return coded(new Error(message, cause === undefined ? undefined : { cause }), ERROR_CODES.UNSUPPORTED_RUNTIME)
}

/** Rejection of an aborted wait, like Node's own AbortError. */
export class AbortError extends Error {
  readonly code = ERROR_CODES.ABORT
  constructor(cause: unknown) {
    super('The operation was aborted', { cause })
    this.name = 'AbortError'
  }
}

function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return `Received ${value}`
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`
  if (typeof value === 'object') return `Received an instance of ${value.constructor?.name ?? 'Object'}`
  return `Received type ${typeof value} (${inspect(value).slice(0, 28)})`
}

/** TypeError ERR_INVALID_ARG_TYPE, worded as Node words it. */
export function invalidArgType(name: string, expected: string, value: unknown): CodedError<TypeError> {
  return coded(new TypeError(`The "${name}" argument must be ${expected}. ${describeReceived(value)}`), ERROR_CODES.INVALID_ARG_TYPE)
}

/** TypeError ERR_INVALID_ARG_VALUE, worded as Node words it. */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): CodedError<TypeError> {
  return coded(new TypeError(`The argument '${name}' ${reason}. Received ${inspect(value)}`), ERROR_CODES.INVALID_ARG_VALUE)
}

/** A child that could not be started, as child_process reports it. */
export interface SpawnError extends PidsetSystemError {
  /** The program. */
  path: string
  /** Its arguments. */
  spawnargs: string[]
}

/** The error of a spawn that failed with `errno`, in child_process's shape. */
export function spawnError(errno: number, file: string, args: readonly string[]): SpawnError {
  const err = systemError(errno, `spawn ${file}`, undefined) as SpawnError
  err.message = `spawn ${file} ${err.code}`
  err.path = file
  err.spawnargs = [...args]
  return err
}

/** RangeError ERR_OUT_OF_RANGE, worded as Node words it. */
export function outOfRange(name: string, range: string, value: unknown): CodedError<RangeError> {
  return coded(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`), ERROR_CODES.OUT_OF_RANGE)
}

/** TypeError ERR_INVALID_THIS, worded as Node words it. */
export function invalidThis(type: string): CodedError<TypeError> {
  return coded(new TypeError(`Value of "this" must be of type ${type}`), ERROR_CODES.INVALID_THIS)
}

/** TypeError ERR_UNKNOWN_ENCODING, as Buffer throws it. */
export function unknownEncoding(encoding: unknown): CodedError<TypeError> {
  return coded(new TypeError(`Unknown encoding: ${String(encoding)}`), ERROR_CODES.UNKNOWN_ENCODING)
}

/** RangeError ERR_CHILD_PROCESS_STDIO_MAXBUFFER, worded as child_process words it, with what was collected. */
export function maxBufferError<T>(stream: 'stdout' | 'stderr', collected: T): CodedError<RangeError> & T {
  return Object.assign(coded(new RangeError(`${stream} maxBuffer length exceeded`), ERROR_CODES.MAXBUFFER), collected)
}

/** TypeError ERR_UNKNOWN_SIGNAL, as process.kill() throws it. */
export function unknownSignal(signal: unknown): CodedError<TypeError> {
  return coded(new TypeError(`Unknown signal: ${String(signal)}`), ERROR_CODES.UNKNOWN_SIGNAL)
}
