// Process trees: a process's descendants, and killing a whole tree, over
// the binding's verified walks (crates/pidset/src/tree.rs).
import { constants } from 'node:os'
import type { NativePidFd } from './binding'
import { closeSoon } from './defer'
import { fromNative, invalidArgType, native } from './errors'
import type { ExitInfo } from './exit-info'
import { PidFd } from './pid-fd'
import { kAdopt, kNative } from './pid-fd-protocol'
import { PidSet } from './pid-set'
import { toSignalNumber, type Signal } from './signals'
import { ownOption, validateInt32, validatePid } from './validators'

/** Options of {@link killTree}. */
export interface KillTreeOptions {
  /** Signal the target itself too, not only its descendants. Default true. */
  includeRoot?: boolean
  /**
   * Resolve once every process signalled has exited, with their exits
   * (in the order they happened), rather than once they are signalled.
   */
  wait?: boolean
  /**
   * Milliseconds after which whatever is left of the tree is killed with
   * SIGKILL (a new walk, so a process forked since is taken too); implies
   * `wait`. `false` or 0 (the default): never.
   */
  forceKillAfterDelay?: number | false
}

/** {@link KillTreeOptions}, checked. */
export interface KillTreePlan {
  includeRoot: boolean
  wait: boolean
  forceKillAfterDelay: number
}

/**
 * A handle to every descendant of `target` at this moment (its children,
 * theirs, and so on), parents before their children. Each is verified
 * after it was opened to be the process that `/proc` listed: never a
 * process that reused a listed PID. Nothing is stopped: a process forked
 * during the call may be missing (see {@link killTree}, which misses none).
 * The handles are yours to close. Empty once `target` has exited: its
 * children then belong to another parent.
 * @throws {TypeError|RangeError} for a bad `target`.
 * @throws {Error} code `'ESRCH'` if a PID `target` does not exist,
 *   `'EBADF'` if a PidFd `target` is closed, `'EMFILE'` if the handles
 *   cannot all be opened.
 */
export function descendants(target: number | PidFd): PidFd[] {
  return withRoot(target, (root, pid) => native(pid, () => root.descendants()).map((handle) => PidFd[kAdopt](handle)))
}

/**
 * Sends `signal` (default 'SIGTERM') to every process of the tree under
 * `target`, through pidfds: each process is stopped before its children
 * are listed, so none escapes by forking or by its parent exiting first,
 * and no process outside the tree is ever signalled. The processes are
 * continued after the signal (a stopped process would not act on
 * SIGTERM), and the tree is walked again in case a handler forked. A
 * `target` that leads its own session (`spawn(..., { detached: true })`)
 * also takes the members of its session that are no longer below it. This
 * process is never signalled.
 *
 * Resolves with how many processes were signalled, or, with `wait` or
 * `forceKillAfterDelay`, with their exits once all have exited.
 * @throws {TypeError} `ERR_UNKNOWN_SIGNAL` / `ERR_INVALID_ARG_TYPE` for bad arguments.
 * @throws {Error} (rejects) code `'ESRCH'` if a PID `target` does not exist,
 *   `'EPERM'` if some process could not be signalled (every other was).
 */
export function killTree(target: number | PidFd, signal: Signal | undefined, options: KillTreeOptions & ({ wait: true } | { forceKillAfterDelay: number })): Promise<ExitInfo[]>
export function killTree(target: number | PidFd, signal?: Signal, options?: KillTreeOptions): Promise<number>
export function killTree(target: number | PidFd, signal: Signal = 'SIGTERM', options?: KillTreeOptions): Promise<number | ExitInfo[]> {
  try {
    const number = toSignalNumber(signal)
    const plan = validateKillTreeOptions(options)
    const root = openRoot(target)
    return killTreeOf(root.handle, root.pid, number, plan).finally(() => root.close())
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * {@link killTree} from a native handle (a Subprocess's): signals the tree
 * and settles as `plan` says.
 */
export async function killTreeOf(root: NativePidFd, pid: number, signal: number, plan: KillTreePlan): Promise<number | ExitInfo[]> {
  const signalled = await walk(root, pid, signal, plan.includeRoot)
  if (!plan.wait) {
    for (const pidfd of signalled) pidfd.close()
    return signalled.length
  }
  let set: PidSet | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    set = new PidSet(signalled)
  } catch (err) {
    for (const pidfd of signalled) pidfd.close()
    throw err
  }
  if (plan.forceKillAfterDelay > 0) {
    timer = setTimeout(() => {
      // Whatever is left: a new walk from the root, and every process
      // signalled before that has not exited (it may have left the tree).
      walk(root, pid, constants.signals.SIGKILL, plan.includeRoot).then(
        (again) => again.forEach((pidfd) => pidfd.close()),
        () => undefined,
      )
      for (const pidfd of signalled) if (!pidfd.closed && pidfd.isRunning()) pidfd.kill('SIGKILL')
    }, plan.forceKillAfterDelay)
  }
  try {
    return await set.waitAll()
  } finally {
    clearTimeout(timer)
    set.close()
    for (const pidfd of signalled) pidfd.close()
  }
}

/**
 * The native walk, its handles wrapped; native errors as pidset's. It runs
 * on a duplicate of `root`: the binding holds the handle it walks from
 * until the walk ends, and the caller's may be closed meanwhile (a
 * Subprocess closes its own as the child is reaped).
 */
async function walk(root: NativePidFd, pid: number, signal: number, includeRoot: boolean): Promise<PidFd[]> {
  let handles: NativePidFd[]
  const own = native(pid, () => root.duplicate())
  try {
    handles = await own.killTree(signal, includeRoot)
  } catch (err) {
    throw fromNative(err, pid)
  } finally {
    closeSoon(own)
  }
  return handles.map((handle) => PidFd[kAdopt](handle))
}

/** Checks killTree()'s options. */
export function validateKillTreeOptions(options: unknown): KillTreePlan {
  if (options === undefined) return { includeRoot: true, wait: false, forceKillAfterDelay: 0 }
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  const includeRoot = ownOption(options, 'includeRoot') ?? true
  const wait = ownOption(options, 'wait') ?? false
  const force = ownOption(options, 'forceKillAfterDelay') ?? false
  if (typeof includeRoot !== 'boolean') throw invalidArgType('options.includeRoot', 'of type boolean', includeRoot)
  if (typeof wait !== 'boolean') throw invalidArgType('options.wait', 'of type boolean', wait)
  if (force !== false) validateInt32(force, 'options.forceKillAfterDelay')
  const forceKillAfterDelay = force === false ? 0 : force
  return { includeRoot, wait: wait || forceKillAfterDelay > 0, forceKillAfterDelay }
}

/** The root's native handle and PID, and how to let go of it (a PID is opened, then closed). */
function openRoot(target: unknown): { handle: NativePidFd; pid: number; close: () => void } {
  if (target instanceof PidFd) return { handle: target[kNative](), pid: target.pid, close: () => undefined }
  if (typeof target !== 'number') throw invalidArgType('target', 'of type number or an instance of PidFd', target)
  validatePid(target, 'target')
  const pidfd = PidFd.open(target)
  return { handle: pidfd[kNative](), pid: target, close: () => pidfd.close() }
}

/** Runs `use` with the root's handle, closing it after if it was opened here. */
function withRoot<T>(target: unknown, use: (root: NativePidFd, pid: number) => T): T {
  const root = openRoot(target)
  try {
    return use(root.handle, root.pid)
  } finally {
    root.close()
  }
}
