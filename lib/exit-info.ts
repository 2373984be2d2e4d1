// The public shape of an exit, built from what the binding reports.
import type { NativeExitInfo, NativeResourceUsage } from '../binding'
import { signalName } from './signals'

/**
 * Resources a process used: the fields of `process.resourceUsage()`, with
 * the same meaning (declared, with each field documented, in binding.d.ts).
 */
export type ResourceUsage = NativeResourceUsage

/** How a process ended. Objects are frozen: every waiter gets the same one. */
export interface ExitInfo {
  /** The PID it had. */
  readonly pid: number
  /** Its exit code, when it exited normally and that is known. */
  readonly exitCode: number | null
  /** The signal that ended it (`'SIGKILL'`), when that is known. */
  readonly signal: string | null
  /** What it used (our own children only); null when unknown. */
  readonly rusage: Readonly<ResourceUsage> | null
}

/** The public ExitInfo for the binding's report. */
export function toExitInfo(info: NativeExitInfo): ExitInfo {
  return Object.freeze({
    pid: info.pid,
    exitCode: info.exitCode ?? null,
    signal: info.signal == null ? null : signalName(info.signal),
    rusage: info.rusage ? Object.freeze(info.rusage) : null,
  })
}

/** Whether the exit's cause is known, so the report can never improve. */
export function isComplete(info: ExitInfo): boolean {
  return info.exitCode !== null || info.signal !== null
}
