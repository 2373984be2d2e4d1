// One pending wait: its promise, timeout, AbortSignal and event-loop ref.
import { AbortError } from './errors'
import type { WaitOptions } from './validate'

/** A wait in progress. Settles once; settling cleans up its timer and listener. */
export class PendingWait<T> {
  readonly promise: Promise<T>
  #resolve!: (value: T) => void
  #reject!: (err: unknown) => void
  #timer: NodeJS.Timeout | undefined
  #signal: AbortSignal | undefined
  #onAbort = (): void => this.reject(new AbortError(this.#signal?.reason))
  #onSettled: (wait: PendingWait<T>) => void
  #settled = false

  /**
   * @param options validated wait options (the signal is not aborted yet)
   * @param keepAlive whether the timeout timer keeps the loop alive
   * @param onTimeout the error to reject with when the timeout elapses
   * @param onSettled called once, first thing when it settles
   */
  constructor(options: WaitOptions, keepAlive: boolean, onTimeout: () => Error, onSettled: (wait: PendingWait<T>) => void) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#onSettled = onSettled
    if (options.timeout !== undefined) {
      this.#timer = setTimeout(() => this.reject(onTimeout()), options.timeout)
      if (!keepAlive) this.#timer.unref()
    }
    if (options.signal) {
      this.#signal = options.signal
      this.#signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  resolve(value: T): void {
    if (this.#finish()) this.#resolve(value)
  }

  reject(err: unknown): void {
    if (this.#finish()) this.#reject(err)
  }

  /** Whether its timer keeps the loop alive. */
  setKeepAlive(keepAlive: boolean): void {
    if (keepAlive) this.#timer?.ref()
    else this.#timer?.unref()
  }

  #finish(): boolean {
    if (this.#settled) return false
    this.#settled = true
    clearTimeout(this.#timer)
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#onSettled(this)
    return true
  }
}
