// The public shape of an exit.
import type { SignalName } from './signals'

/**
 * Resources a process used: the fields of `process.resourceUsage()`, with
 * the same meaning. Times are in microseconds, sizes in KiB.
 */
export interface ResourceUsage {
  /** User CPU time, in microseconds. */
  userCPUTime: number
  /** System CPU time, in microseconds. */
  systemCPUTime: number
  /**
   * Peak resident set size, in KiB. `null` for a child of `spawn()` whose
   * peak was not above this process's when it started: such a child starts
   * in this process's memory (as with `posix_spawn`), and the kernel hands
   * this process's peak on to it, so the figure could be ours, not its own.
   */
  maxRSS: number | null
  /** Integral shared memory size (always 0 on Linux). */
  sharedMemorySize: number
  /** Integral unshared data size (always 0 on Linux). */
  unsharedDataSize: number
  /** Integral unshared stack size (always 0 on Linux). */
  unsharedStackSize: number
  /** Page faults served without I/O. */
  minorPageFault: number
  /** Page faults that needed I/O. */
  majorPageFault: number
  /** Swaps (always 0 on Linux). */
  swappedOut: number
  /** Blocks read from file systems. */
  fsRead: number
  /** Blocks written to file systems. */
  fsWrite: number
  /** IPC messages sent (always 0 on Linux). */
  ipcSent: number
  /** IPC messages received (always 0 on Linux). */
  ipcReceived: number
  /** Signals received (always 0 on Linux). */
  signalsCount: number
  /** Voluntary context switches. */
  voluntaryContextSwitches: number
  /** Involuntary context switches. */
  involuntaryContextSwitches: number
}

/** How a process ended. Objects are frozen: every waiter gets the same one. */
export interface ExitInfo {
  /** The PID it had. */
  readonly pid: number
  /** Its exit code, when it exited normally and that is known. */
  readonly exitCode: number | null
  /** The signal that ended it (`'SIGKILL'`), when that is known. */
  readonly signal: SignalName | null
  /**
   * Whether it dumped core (a signal such as SIGSEGV or SIGABRT ended it,
   * and the kernel wrote the dump): false when it exited normally or a
   * signal ended it without a dump; null when the kernel's status is not
   * known (see `exitCode`), or came from child_process, which does not say.
   */
  readonly coreDumped: boolean | null
  /** What it used (our own children only); null when unknown. */
  readonly rusage: Readonly<ResourceUsage> | null
}

/**
 * How a child pidset started ended: its resource usage is always known,
 * on every kernel (pidset reads it before it reaps the child).
 */
export interface ChildExitInfo extends ExitInfo {
  /** What it used (its own children it waited for included). */
  readonly rusage: Readonly<ResourceUsage>
}

/** Whether the exit's cause is known, so the report can never improve. */
export function isComplete(info: ExitInfo): boolean {
  return info.exitCode !== null || info.signal !== null
}
