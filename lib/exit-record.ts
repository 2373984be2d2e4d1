// Reads the exit records the binding writes (crates/pidset-node/src/
// exit_record.rs, where the layout is declared): one Float64Array row per
// exit, so that an exit costs the binding no JavaScript objects at all.
import { EXIT_RECORD_LEN } from './binding'
import type { ExitInfo, ResourceUsage } from './exit-info'
import { signalName } from './signals'

/** Slots of a record, in the binding's order. */
const FD = 0
const STATE = 1
const CODE = 2
const SIGNAL = 3
const HAS_RUSAGE = 4
const RUSAGE = 5

/** The length of one record. */
export const RECORD_LEN = EXIT_RECORD_LEN

/** A buffer for one record, for reads outside a batch (tryWait()). */
export const scratch = new Float64Array(RECORD_LEN)

/** The descriptor a record is about. */
export function recordFd(records: Float64Array, at: number): number {
  return records[at + FD]
}

/** The state of a record (an `ExitState`). */
export function recordState(records: Float64Array, at: number): number {
  return records[at + STATE]
}

/** The index of a failed record's failure object. */
export function failureIndex(records: Float64Array, at: number): number {
  return records[at + CODE]
}

/** The frozen ExitInfo of the record at `at`, for process `pid`. */
export function decodeExit(records: Float64Array, at: number, pid: number): ExitInfo {
  const code = records[at + CODE]
  const signal = records[at + SIGNAL]
  return Object.freeze({
    pid,
    exitCode: code >= 0 ? code : null,
    signal: signal > 0 ? signalName(signal) : null,
    rusage: records[at + HAS_RUSAGE] === 1 ? decodeRusage(records, at + RUSAGE) : null,
  })
}

function decodeRusage(r: Float64Array, at: number): Readonly<ResourceUsage> {
  // An object literal, so that every ResourceUsage shares one hidden class.
  return Object.freeze({
    userCPUTime: r[at],
    systemCPUTime: r[at + 1],
    // -1: not known (a spawn() child that stayed within the memory it started in).
    maxRSS: r[at + 2] >= 0 ? r[at + 2] : null,
    sharedMemorySize: r[at + 3],
    unsharedDataSize: r[at + 4],
    unsharedStackSize: r[at + 5],
    minorPageFault: r[at + 6],
    majorPageFault: r[at + 7],
    swappedOut: r[at + 8],
    fsRead: r[at + 9],
    fsWrite: r[at + 10],
    ipcSent: r[at + 11],
    ipcReceived: r[at + 12],
    signalsCount: r[at + 13],
    voluntaryContextSwitches: r[at + 14],
    involuntaryContextSwitches: r[at + 15],
  })
}
