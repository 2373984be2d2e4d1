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

/** What {@link closeSoon} closes: a native handle. */
export interface Closable {
  close(): void
}

const closing: Closable[] = []

/**
 * Closes `handle` in a {@link defer}red task: a native call that the code
 * reacting to an exit need not wait for. Every handle given in the same
 * turn is closed by one task, so a batch of exits costs one, not one each.
 */
export function closeSoon(handle: Closable): void {
  if (closing.push(handle) === 1) defer(closeQueued)
}

function closeQueued(): void {
  let thrown: { err: unknown } | undefined
  for (const handle of closing.splice(0)) {
    try {
      handle.close()
    } catch (err) {
      // One failure must not leave the others open.
      thrown ??= { err }
    }
  }
  if (thrown) throw thrown.err
}
