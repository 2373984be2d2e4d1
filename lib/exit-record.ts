// Reads the exit records the binding writes (crates/pidset-node/src/
// exit_record.rs, where the layout is declared, and generated from there):
// one Float64Array row per exit, so that an exit costs the binding no
// JavaScript objects at all.
import { EXIT_RECORD_LEN, ExitRecordSlot, RusageSlot } from './binding'
import type { ExitInfo, ResourceUsage } from './exit-info'
import { signalName } from './signals'

// The slots, taken once from the binding's enums into constants: the exit
// path reads them for every exit.
const { Fd: FD, State: STATE, Code: CODE, Signal: SIGNAL, HasRusage: HAS_RUSAGE, CoreDumped: CORE_DUMPED, Rusage: RUSAGE } = ExitRecordSlot

/**
 * Each ResourceUsage field's slot. Checked both ways at compile time: a
 * field of the interface without a slot is missing here, and a slot the
 * binding adds without a field fails `EVERY_SLOT_USED` below.
 */
const SLOT = {
  userCPUTime: RusageSlot.UserCpuTime,
  systemCPUTime: RusageSlot.SystemCpuTime,
  maxRSS: RusageSlot.MaxRss,
  sharedMemorySize: RusageSlot.SharedMemorySize,
  unsharedDataSize: RusageSlot.UnsharedDataSize,
  unsharedStackSize: RusageSlot.UnsharedStackSize,
  minorPageFault: RusageSlot.MinorPageFault,
  majorPageFault: RusageSlot.MajorPageFault,
  swappedOut: RusageSlot.SwappedOut,
  fsRead: RusageSlot.FsRead,
  fsWrite: RusageSlot.FsWrite,
  ipcSent: RusageSlot.IpcSent,
  ipcReceived: RusageSlot.IpcReceived,
  signalsCount: RusageSlot.SignalsCount,
  voluntaryContextSwitches: RusageSlot.VoluntaryContextSwitches,
  involuntaryContextSwitches: RusageSlot.InvoluntaryContextSwitches,
} as const satisfies Record<keyof ResourceUsage, RusageSlot>
/** `true` only when every slot of the binding's RusageSlot has a field above. */
const EVERY_SLOT_USED: [Exclude<RusageSlot, (typeof SLOT)[keyof typeof SLOT]>] extends [never] ? true : never = true
void EVERY_SLOT_USED
const {
  userCPUTime: USER_CPU,
  systemCPUTime: SYSTEM_CPU,
  maxRSS: MAX_RSS,
  sharedMemorySize: SHARED_MEMORY,
  unsharedDataSize: UNSHARED_DATA,
  unsharedStackSize: UNSHARED_STACK,
  minorPageFault: MINOR_FAULTS,
  majorPageFault: MAJOR_FAULTS,
  swappedOut: SWAPPED_OUT,
  fsRead: FS_READ,
  fsWrite: FS_WRITE,
  ipcSent: IPC_SENT,
  ipcReceived: IPC_RECEIVED,
  signalsCount: SIGNALS,
  voluntaryContextSwitches: VOLUNTARY_SWITCHES,
  involuntaryContextSwitches: INVOLUNTARY_SWITCHES,
} = SLOT

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
  const coreDumped = records[at + CORE_DUMPED]
  return Object.freeze({
    pid,
    exitCode: code >= 0 ? code : null,
    signal: signal > 0 ? signalName(signal) : null,
    coreDumped: coreDumped >= 0 ? coreDumped === 1 : null,
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
