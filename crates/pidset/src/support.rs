//! What the running kernel supports, learned on first use and remembered,
//! so that a missing feature costs one failed system call per process, not
//! one per operation (tokio's pidfd reaper caches `pidfd_open` support the
//! same way).

use std::sync::atomic::{AtomicU8, Ordering};

/// A kernel feature that is either not probed yet, present, or absent.
pub(crate) struct Feature(AtomicU8);

const UNKNOWN: u8 = 0;
const PRESENT: u8 = 1;
const ABSENT: u8 = 2;

impl Feature {
    const fn new() -> Self {
        Self(AtomicU8::new(UNKNOWN))
    }

    /// Whether it is known to be missing.
    pub(crate) fn is_absent(&self) -> bool {
        self.0.load(Ordering::Relaxed) == ABSENT
    }

    /// Whether it is known to be there.
    pub(crate) fn is_present(&self) -> bool {
        self.0.load(Ordering::Relaxed) == PRESENT
    }

    /// Records what a system call showed. Every thread that probes sees the
    /// same kernel, so a race between two first uses stores the same answer.
    pub(crate) fn set(&self, present: bool) {
        self.0
            .store(if present { PRESENT } else { ABSENT }, Ordering::Relaxed);
    }
}

/// `PIDFD_NONBLOCK` for `pidfd_open` (Linux 5.10).
pub(crate) static PIDFD_NONBLOCK: Feature = Feature::new();

/// The `PIDFD_GET_INFO` ioctl (Linux 6.13).
pub(crate) static PIDFD_GET_INFO: Feature = Feature::new();

/// `PIDFD_INFO_EXIT`: the exit status of a reaped process (Linux 6.15).
/// Present once any answer carries it; absent only once a reap of our own
/// showed it missing (`kernel_support`): an ESRCH for someone else's process
/// may be a reap caught halfway, which says nothing of the kernel.
pub(crate) static PIDFD_INFO_EXIT: Feature = Feature::new();

/// pidfs (Linux 6.9): every process's pidfds share an inode of their own.
pub(crate) static PIDFS: Feature = Feature::new();
