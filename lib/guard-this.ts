// Methods called on the wrong `this` fail as Node's own classes fail:
// TypeError ERR_INVALID_THIS, not V8's code-less complaint about a private
// field it could not read (or, worse, a half-done call).
import { invalidThis } from './errors'

/** The static method each guarded class defines: whether a value is one of its instances. */
export const kIsInstance = Symbol('pidset.isInstance')

interface Guardable {
  readonly name: string
  readonly prototype: object
  [kIsInstance](value: unknown): boolean
}

/**
 * Wraps every public method and accessor of `cls.prototype` with a check of
 * `this`. Those named in `rejecting` return a promise, and reject instead
 * of throwing, as their other argument errors do. Internal methods (keyed
 * by pidset's own symbols, which users cannot reach) are left alone: they
 * are called only by pidset, on the path of every exit, where a wrapper per
 * call costs an arguments array and a brand check.
 */
export function guardThis(cls: Guardable, rejecting: ReadonlyArray<string | symbol> = []): void {
  const proto = cls.prototype as Record<string | symbol, unknown>
  const guard = <F extends (...args: unknown[]) => unknown>(fn: F, key: string | symbol): F => {
    const rejects = rejecting.includes(key)
    const guarded = function (this: unknown, ...args: unknown[]): unknown {
      if (!cls[kIsInstance](this)) {
        const err = invalidThis(cls.name)
        if (rejects) return Promise.reject(err)
        throw err
      }
      return fn.apply(this, args)
    }
    Object.defineProperty(guarded, 'name', { value: fn.name })
    Object.defineProperty(guarded, 'length', { value: fn.length })
    return guarded as F
  }
  for (const key of Reflect.ownKeys(proto)) {
    if (key === 'constructor' || isInternal(key)) continue
    const descriptor = Object.getOwnPropertyDescriptor(proto, key)
    if (!descriptor) continue
    if (typeof descriptor.value === 'function') descriptor.value = guard(descriptor.value as (...args: unknown[]) => unknown, key)
    if (descriptor.get) descriptor.get = guard(descriptor.get, key)
    if (descriptor.set) descriptor.set = guard(descriptor.set, key)
    Object.defineProperty(proto, key, descriptor)
  }
}

/** Whether `key` is one of pidset's internal symbols (`Symbol('pidset.…')`). */
function isInternal(key: string | symbol): boolean {
  return typeof key === 'symbol' && key.description?.startsWith('pidset.') === true
}
