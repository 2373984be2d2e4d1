//! One exit as a row of numbers, the form in which the binding hands exits
//! to JavaScript: a `Float64Array` costs one allocation however many exits
//! it holds, where an object per exit (and one per resource usage) costs
//! dozens of Node-API calls each, right as the process dies.
//! `lib/exit-record.ts` reads it back.

use napi_derive::napi;
use pidset::{ExitInfo, ExitStatus, ResourceUsage};

/// What a record says of its process.
#[napi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitState {
    /// Still running: the rest of the record is empty.
    Running,
    /// Exited; nothing more will be known.
    Exited,
    /// Exited; its status comes at its reap (somebody else's process). Only
    /// `NativePidFd.readExit` (tryWait) says this: the poller reports final
    /// exits only.
    Exiting,
    /// Reading its exit failed: the exit-code slot holds the failure's index
    /// in the array of failure objects passed alongside.
    Failed,
}

/// The slots of a record, declared here for both languages (`lib/exit-record.ts`
/// reads them from the generated enum).
#[napi]
pub enum ExitRecordSlot {
    /// The pidfd's descriptor number.
    Fd = 0,
    /// The [`ExitState`].
    State = 1,
    /// The exit code, or -1 (a failure record: the failure's index).
    Code = 2,
    /// The signal number, or 0.
    Signal = 3,
    /// 1 if resource usage follows, else 0.
    HasRusage = 4,
    /// 1 if a signal ended it and it dumped core, 0 if it did not (or exited
    /// normally), -1 when its status is not known.
    CoreDumped = 5,
    /// The first of the [`RusageSlot`]s.
    Rusage = 6,
}

/// The slots of the resource usage, from [`ExitRecordSlot::Rusage`] on, in
/// the order of `process.resourceUsage()`'s fields.
#[napi]
pub enum RusageSlot {
    /// `userCPUTime`, µs.
    UserCpuTime = 0,
    /// `systemCPUTime`, µs.
    SystemCpuTime = 1,
    /// `maxRSS`, KiB, or -1 when not known.
    MaxRss = 2,
    /// `sharedMemorySize`.
    SharedMemorySize = 3,
    /// `unsharedDataSize`.
    UnsharedDataSize = 4,
    /// `unsharedStackSize`.
    UnsharedStackSize = 5,
    /// `minorPageFault`.
    MinorPageFault = 6,
    /// `majorPageFault`.
    MajorPageFault = 7,
    /// `swappedOut`.
    SwappedOut = 8,
    /// `fsRead`.
    FsRead = 9,
    /// `fsWrite`.
    FsWrite = 10,
    /// `ipcSent`.
    IpcSent = 11,
    /// `ipcReceived`.
    IpcReceived = 12,
    /// `signalsCount`.
    SignalsCount = 13,
    /// `voluntaryContextSwitches`.
    VoluntaryContextSwitches = 14,
    /// `involuntaryContextSwitches`.
    InvoluntaryContextSwitches = 15,
}

/// How many doubles one record takes: the slots above and the 16 of the
/// resource usage.
#[napi]
pub const EXIT_RECORD_LEN: u32 = 22;
const FD: usize = ExitRecordSlot::Fd as usize;
const STATE: usize = ExitRecordSlot::State as usize;
const CODE: usize = ExitRecordSlot::Code as usize;
const SIGNAL: usize = ExitRecordSlot::Signal as usize;
const HAS_RUSAGE: usize = ExitRecordSlot::HasRusage as usize;
const CORE_DUMPED: usize = ExitRecordSlot::CoreDumped as usize;
const RUSAGE: usize = ExitRecordSlot::Rusage as usize;
// The length covers the last slot.
const _: () = assert!(
    EXIT_RECORD_LEN as usize == RUSAGE + RusageSlot::InvoluntaryContextSwitches as usize + 1
);

/// The length of `n` records.
pub fn records_len(n: usize) -> usize {
    n * EXIT_RECORD_LEN as usize
}

/// Writes a record into `out` (at least [`EXIT_RECORD_LEN`] long).
pub fn write(out: &mut [f64], fd: i32, state: ExitState, info: Option<&ExitInfo>) {
    out[FD] = f64::from(fd);
    out[STATE] = f64::from(state as i32);
    let status = info.and_then(|i| i.status);
    out[CODE] = f64::from(status.and_then(|s| s.code()).unwrap_or(-1));
    out[SIGNAL] = f64::from(status.and_then(|s| s.signal()).unwrap_or(0));
    out[CORE_DUMPED] = match status {
        Some(ExitStatus::Signaled {
            core_dumped: true, ..
        }) => 1.0,
        Some(_) => 0.0,
        None => -1.0,
    };
    match info.and_then(|i| i.rusage) {
        Some(ru) => {
            out[HAS_RUSAGE] = 1.0;
            write_rusage(&mut out[RUSAGE..], &ru);
        }
        None => out[HAS_RUSAGE] = 0.0,
    }
}

/// Writes a failure record: `index` is the failure's place in the array of
/// failure objects handed over with the records.
pub fn write_failure(out: &mut [f64], fd: i32, index: usize) {
    out[FD] = f64::from(fd);
    out[STATE] = f64::from(ExitState::Failed as i32);
    out[CODE] = index as f64;
    out[HAS_RUSAGE] = 0.0;
    out[CORE_DUMPED] = -1.0;
}

fn write_rusage(out: &mut [f64], ru: &ResourceUsage) {
    // Destructured without `..`: a field added to the core's record does not
    // compile until it has a slot.
    let ResourceUsage {
        user_cpu_time,
        system_cpu_time,
        max_rss,
        shared_memory_size,
        unshared_data_size,
        unshared_stack_size,
        minor_page_fault,
        major_page_fault,
        swapped_out,
        fs_read,
        fs_write,
        ipc_sent,
        ipc_received,
        signals_count,
        voluntary_context_switches,
        involuntary_context_switches,
    } = *ru;
    // u64 counts become doubles, as Node's own resourceUsage() does; they
    // are exact up to 2^53. An unknown peak (see pidset's inherited_rss) is
    // -1, which lib/exit-record.ts reads as null.
    let mut put = |slot: RusageSlot, value: f64| out[slot as usize] = value;
    put(RusageSlot::UserCpuTime, user_cpu_time as f64);
    put(RusageSlot::SystemCpuTime, system_cpu_time as f64);
    put(RusageSlot::MaxRss, max_rss.map_or(-1.0, |kib| kib as f64));
    put(RusageSlot::SharedMemorySize, shared_memory_size as f64);
    put(RusageSlot::UnsharedDataSize, unshared_data_size as f64);
    put(RusageSlot::UnsharedStackSize, unshared_stack_size as f64);
    put(RusageSlot::MinorPageFault, minor_page_fault as f64);
    put(RusageSlot::MajorPageFault, major_page_fault as f64);
    put(RusageSlot::SwappedOut, swapped_out as f64);
    put(RusageSlot::FsRead, fs_read as f64);
    put(RusageSlot::FsWrite, fs_write as f64);
    put(RusageSlot::IpcSent, ipc_sent as f64);
    put(RusageSlot::IpcReceived, ipc_received as f64);
    put(RusageSlot::SignalsCount, signals_count as f64);
    put(
        RusageSlot::VoluntaryContextSwitches,
        voluntary_context_switches as f64,
    );
    put(
        RusageSlot::InvoluntaryContextSwitches,
        involuntary_context_switches as f64,
    );
}
