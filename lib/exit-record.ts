// Reads the exit records the binding writes (crates/pidset-node/src/
// exit_record.rs, where the layout is declared, and generated from there):
// one Float64Array row per exit, so that an exit costs the binding no
// JavaScript objects at all.
import { EXIT_RECORD_LEN, ExitRecordSlot, RusageSlot } from './binding'
import type { ExitInfo, ResourceUsage } from './exit-info'
import { signalName } from './signals'

// The slots, taken once from the binding's enums into constants: the exit
// path reads them for every exit.
const { Fd: FD, State: STATE, Code: CODE, Signal: SIGNAL, HasRusage: HAS_RUSAGE, Rusage: RUSAGE } = ExitRecordSlot
const {
  UserCpuTime: USER_CPU,
  SystemCpuTime: SYSTEM_CPU,
  MaxRss: MAX_RSS,
  SharedMemorySize: SHARED_MEMORY,
  UnsharedDataSize: UNSHARED_DATA,
  UnsharedStackSize: UNSHARED_STACK,
  MinorPageFault: MINOR_FAULTS,
  MajorPageFault: MAJOR_FAULTS,
  SwappedOut: SWAPPED_OUT,
  FsRead: FS_READ,
  FsWrite: FS_WRITE,
  IpcSent: IPC_SENT,
  IpcReceived: IPC_RECEIVED,
  SignalsCount: SIGNALS,
  VoluntaryContextSwitches: VOLUNTARY_SWITCHES,
  InvoluntaryContextSwitches: INVOLUNTARY_SWITCHES,
} = RusageSlot

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
    userCPUTime: r[at + USER_CPU],
    systemCPUTime: r[at + SYSTEM_CPU],
    // -1: not known (a spawn() child that stayed within the memory it started in).
    maxRSS: r[at + MAX_RSS] >= 0 ? r[at + MAX_RSS] : null,
    sharedMemorySize: r[at + SHARED_MEMORY],
    unsharedDataSize: r[at + UNSHARED_DATA],
    unsharedStackSize: r[at + UNSHARED_STACK],
    minorPageFault: r[at + MINOR_FAULTS],
    majorPageFault: r[at + MAJOR_FAULTS],
    swappedOut: r[at + SWAPPED_OUT],
    fsRead: r[at + FS_READ],
    fsWrite: r[at + FS_WRITE],
    ipcSent: r[at + IPC_SENT],
    ipcReceived: r[at + IPC_RECEIVED],
    signalsCount: r[at + SIGNALS],
    voluntaryContextSwitches: r[at + VOLUNTARY_SWITCHES],
    involuntaryContextSwitches: r[at + INVOLUNTARY_SWITCHES],
  })
}
