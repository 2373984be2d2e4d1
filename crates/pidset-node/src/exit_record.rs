//! One exit as a row of numbers, the form in which the binding hands exits
//! to JavaScript: a `Float64Array` costs one allocation however many exits
//! it holds, where an object per exit (and one per resource usage) costs
//! dozens of Node-API calls each, right as the process dies.
//! `lib/exit-record.ts` reads it back.

use napi_derive::napi;
use pidset::{ExitInfo, ResourceUsage};

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

/// Slots of a record: the descriptor, the [`ExitState`], the exit code (or
/// -1), the signal number (or 0), whether resource usage follows (1 or 0),
/// then the 16 fields of [`ResourceUsage`] in the order of
/// `process.resourceUsage()`.
#[napi]
pub const EXIT_RECORD_LEN: u32 = 21;
const FD: usize = 0;
const STATE: usize = 1;
const CODE: usize = 2;
const SIGNAL: usize = 3;
const HAS_RUSAGE: usize = 4;
const RUSAGE: usize = 5;

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
}

fn write_rusage(out: &mut [f64], ru: &ResourceUsage) {
    // u64 counts become doubles, as Node's own resourceUsage() does; they
    // are exact up to 2^53. An unknown peak (see pidset's inherited_rss) is
    // -1, which lib/exit-record.ts reads as null.
    let fields = [
        ru.user_cpu_time as f64,
        ru.system_cpu_time as f64,
        ru.max_rss.map_or(-1.0, |kib| kib as f64),
        ru.shared_memory_size as f64,
        ru.unshared_data_size as f64,
        ru.unshared_stack_size as f64,
        ru.minor_page_fault as f64,
        ru.major_page_fault as f64,
        ru.swapped_out as f64,
        ru.fs_read as f64,
        ru.fs_write as f64,
        ru.ipc_sent as f64,
        ru.ipc_received as f64,
        ru.signals_count as f64,
        ru.voluntary_context_switches as f64,
        ru.involuntary_context_switches as f64,
    ];
    out.iter_mut()
        .zip(fields)
        .for_each(|(slot, value)| *slot = value);
}
