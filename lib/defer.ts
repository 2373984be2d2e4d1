// Work that may wait until the code reacting to a settled promise has run.

const settled = Promise.resolve()

/**
 * Runs `task` in a microtask, behind the promise reactions already queued:
 * after the code waiting for an exit, before the event loop moves on.
 * queueMicrotask() would do the same at the cost of an AsyncResource per
 * call, on the path of every exit. A task that throws is reported as an
 * uncaught exception, as queueMicrotask() would, not as a rejection.
 */
export function defer(task: () => void): void {
  settled.then(() => {
    try {
      task()
    } catch (err) {
      process.nextTick(() => {
        throw err
      })
    }
  })
}
