// Every error pidset throws or rejects with is built here, in Node's shapes.
import { getSystemErrorMap, getSystemErrorName, inspect } from 'node:util'
import { constants } from 'node:os'

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

/** The error of a failed or refused operation on process `pid`. */
export function systemError(errno: number, syscall: string | undefined, pid: number | undefined, detail?: string): PidsetSystemError {
  const code = getSystemErrorName(-errno)
  const description = detail ?? systemErrorMap().get(-errno)?.[1] ?? 'unknown error'
  const about = pid === undefined ? '' : ` (pid ${pid})`
  const err = new Error(`${syscall ? `${syscall} ` : ''}${code}: ${description}${about}`) as PidsetSystemError
  err.code = code
  err.errno = -errno
  if (syscall !== undefined) err.syscall = syscall
  if (pid !== undefined) err.pid = pid
  return err
}

const SYSCALL_ERROR = 'PIDSET_SYSCALL'

/**
 * Turns an error thrown by the binding into what users see. Failed system
 * calls arrive as code PIDSET_SYSCALL with the message "<syscall> <errno>"
 * (crates/pidset-node/src/error.rs); anything else passes through.
 */
export function fromNative(err: unknown, pid: number): unknown {
  const e = err as { code?: unknown; message?: unknown }
  if (e?.code !== SYSCALL_ERROR || typeof e.message !== 'string') return err
  const [syscall, errnoText] = e.message.split(' ')
  const errno = Number(errnoText)
  const detail = errno === constants.errno.ENOSYS ? `${syscall} is not supported by this kernel; pidset needs Linux 5.3 or newer` : undefined
  return systemError(errno, syscall, pid, detail)
}

/** Calls the binding, converting its errors with {@link fromNative}. */
export function native<T>(pid: number, call: () => T): T {
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
  return coded(new Error('The PidSet is empty: there is nothing to wait for'), 'ERR_PIDSET_EMPTY')
}

/** Rejection of an aborted wait, like Node's own AbortError. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR'
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
  return coded(new TypeError(`The "${name}" argument must be ${expected}. ${describeReceived(value)}`), 'ERR_INVALID_ARG_TYPE')
}

/** RangeError ERR_OUT_OF_RANGE, worded as Node words it. */
export function outOfRange(name: string, range: string, value: unknown): CodedError<RangeError> {
  return coded(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`), 'ERR_OUT_OF_RANGE')
}

/** TypeError ERR_UNKNOWN_SIGNAL, as process.kill() throws it. */
export function unknownSignal(signal: unknown): CodedError<TypeError> {
  return coded(new TypeError(`Unknown signal: ${String(signal)}`), 'ERR_UNKNOWN_SIGNAL')
}
