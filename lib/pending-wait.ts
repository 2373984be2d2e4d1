// One pending wait: its promise, timeout, AbortSignal and event-loop ref.
import { AbortError } from './errors'
import type { WaitOptions } from './validators'

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
   * Throws, having started nothing, if the signal's `addEventListener` does.
   * @param options validated wait options (the signal is not aborted yet);
   *   a `timeout` of 0 means none, as in child_process
   * @param keepAlive whether the timeout timer keeps the loop alive
   * @param onTimeout the error to reject with when the timeout elapses
   * @param onSettled called once, first thing when it settles (unless its
   *   owner settles it with `notify` false)
   */
  constructor(options: WaitOptions, keepAlive: boolean, onTimeout: () => Error, onSettled: (wait: PendingWait<T>) => void) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#onSettled = onSettled
    if (options.signal) {
      options.signal.addEventListener('abort', this.#onAbort, { once: true })
      this.#signal = options.signal
    }
    if (options.timeout) {
      this.#timer = setTimeout(() => this.reject(onTimeout()), options.timeout)
      if (!keepAlive) this.#timer.unref()
    }
  }

  /** Resolves it; `notify` false: its owner settles all at once and needs no `onSettled`. */
  resolve(value: T, notify = true): void {
    if (this.#finish(notify)) this.#resolve(value)
  }

  /** Rejects it; `notify` as for {@link resolve}. */
  reject(err: unknown, notify = true): void {
    if (this.#finish(notify)) this.#reject(err)
  }

  /** Whether its timer keeps the loop alive. */
  setKeepAlive(keepAlive: boolean): void {
    if (keepAlive) this.#timer?.ref()
    else this.#timer?.unref()
  }

  #finish(notify: boolean): boolean {
    if (this.#settled) return false
    this.#settled = true
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#signal) {
      try {
        this.#signal.removeEventListener('abort', this.#onAbort)
      } catch (err) {
        // A signal whose removeEventListener throws must not stop this wait
        // (or the others in its batch) from settling. The listener left
        // behind is harmless: this wait is settled. Say so, without throwing.
        process.emitWarning(`pidset: AbortSignal.removeEventListener threw: ${String(err)}`, 'PidsetWarning')
      }
    }
    if (notify) this.#onSettled(this)
    return true
  }
}
