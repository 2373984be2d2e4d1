// Argument checks for the public API, with Node's error codes and names
// (as Node's lib/internal/validators.js). Checks of one option that drive
// one behaviour live beside that behaviour; the shared ones live here.
import { AbortError, invalidArgType, invalidArgValue, outOfRange } from './errors'

/** The largest value of a C `int`: descriptors, PIDs, timeouts. */
export const INT32_MAX = 2 ** 31 - 1

/**
 * Throws unless `value` is an integer from `min` to `max`, as Node's
 * `validateInt32`: ERR_INVALID_ARG_TYPE for a non-number,
 * ERR_OUT_OF_RANGE for any other number outside.
 */
export function validateInt32(value: unknown, name: string, min = 0, max = INT32_MAX): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value)
}

/** Throws unless `value` is a string without null bytes (which a C string cannot hold). */
export function validateString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
  if (value.includes('\u0000')) throw invalidArgValue(name, value, 'must be a string without null bytes')
  return value
}

/** Throws unless `value` is undefined or an AbortSignal. */
export function validateAbortSignal(value: unknown, name: string): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', value)
}

/** The AbortError to refuse work with if `signal` has already aborted. */
export function alreadyAborted(signal: AbortSignal | undefined): AbortError | undefined {
  return signal?.aborted ? new AbortError(signal.reason) : undefined
}

/**
 * The options object's own property `key`, or undefined. An inherited one
 * is never honoured: a polluted `Object.prototype` (`Object.prototype.uid =
 * 0`) must not choose how a child runs or how long a wait lasts, as
 * child_process reads only own properties.
 */
export function ownOption(options: object | undefined, key: string): unknown {
  return options !== undefined && Object.hasOwn(options, key) ? (options as Record<string, unknown>)[key] : undefined
}

/**
 * `value` if it is one of `allowed` (a string enum's values, as the binding
 * declares them); else ERR_INVALID_ARG_VALUE naming them, as Node's
 * `validateOneOf` does.
 */
export function validateOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) throw invalidArgValue(name, value, `must be one of ${allowed.map((v) => `'${v}'`).join(', ')}`)
  return value as T
}

/** Throws unless `pid` is an integer from 1 to 2^31-1. */
export function validatePid(pid: unknown, name = 'pid'): asserts pid is number {
  validateInt32(pid, name, 1)
}

/** Options of every wait. */
export interface WaitOptions {
  /** Rejects the wait with an AbortError when aborted. */
  signal?: AbortSignal
  /** Rejects the wait with code 'ETIMEDOUT' after this many milliseconds. */
  timeout?: number
}

/** Checks wait options; returns them with absent fields left undefined. */
export function validateWaitOptions(options: unknown): WaitOptions {
  // Both fields are always own properties of the result, so that reading
  // an absent one never reaches Object.prototype.
  if (options === undefined) return { signal: undefined, timeout: undefined }
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  const signal = ownOption(options, 'signal')
  const timeout = ownOption(options, 'timeout')
  validateAbortSignal(signal, 'options.signal')
  if (timeout !== undefined) {
    if (typeof timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', timeout)
    if (!(timeout >= 0 && timeout <= INT32_MAX)) throw outOfRange('options.timeout', `>= 0 and <= ${INT32_MAX}`, timeout)
  }
  return { signal, timeout }
}
