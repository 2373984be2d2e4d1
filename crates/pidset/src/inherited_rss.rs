//! The peak memory a child started with `CLONE_VM` inherits from us, kept
//! out of its reported `max_rss`.
//!
//! A child cloned with `CLONE_VM | CLONE_VFORK` runs in this process's
//! memory until it calls `execve`, and the kernel then carries that
//! memory's high-water mark into the child's own (`exec_mmap` records the
//! old mm's peak in the child's `signal->maxrss`). Its `ru_maxrss` is thus
//! the larger of our peak when it exec'd and its own: `true` started from a
//! Node process of 300 MB reports 300 MB. A fork would not help: the copy's
//! resident pages count the same way (measured: 297 MB from that parent
//! without `CLONE_VM`, and a spawn 19 times slower).
//!
//! What can be known: our peak read just after the child exec'd is at
//! least the one it inherited (a process's peak only grows). A child whose
//! `ru_maxrss` is above it reports its own peak; one at or below it may be
//! reporting ours, so its peak is not known (`None`).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::exit_info::ResourceUsage;

/// Our peak RSS (KiB) just after each unreaped child of [`crate::spawn`]
/// exec'd, by PID: while we have not reaped it, the PID is that child's.
static FLOORS: Mutex<BTreeMap<i32, u64>> = Mutex::new(BTreeMap::new());

/// Records, for child `pid` that has just exec'd, the peak it can have
/// inherited: ours now.
pub(crate) fn record(pid: i32) {
    let floor = own_peak_kib();
    FLOORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(pid, floor);
}

/// `usage` of our child `pid`, read without reaping it: its `max_rss`
/// kept only if it is the child's own (above what it inherited).
pub(crate) fn judge(pid: i32, usage: ResourceUsage) -> ResourceUsage {
    let floor = FLOORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&pid)
        .copied();
    above(floor, usage)
}

/// As [`judge`], for child `pid` just reaped, which is forgotten: its PID
/// may go to another process.
pub(crate) fn judge_reaped(pid: i32, usage: ResourceUsage) -> ResourceUsage {
    let floor = FLOORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&pid);
    above(floor, usage)
}

/// `usage` with its peak kept only if above `floor` (none: nothing inherited from us).
fn above(floor: Option<u64>, mut usage: ResourceUsage) -> ResourceUsage {
    if let Some(floor) = floor {
        usage.max_rss = usage.max_rss.filter(|&peak| peak > floor);
    }
    usage
}

/// This process's peak resident set size so far, in KiB
/// (`getrusage(RUSAGE_SELF)`); `u64::MAX` if it cannot be read, so that no
/// child's peak is taken for its own then.
fn own_peak_kib() -> u64 {
    crate::sys::own_rusage::own_max_rss_kib().unwrap_or(u64::MAX)
}
