//! The raw system calls that rustix does not wrap in the form we need.
//! Each is a small safe function; the unsafe code stays here.

pub(crate) mod clone_exec;
pub(crate) mod dup_fd;
pub(crate) mod fork_exit;
pub(crate) mod own_rusage;
pub(crate) mod peer_pidfd;
pub(crate) mod pidfd_info;
pub(crate) mod pidfd_namespace;
pub(crate) mod pidfd_send_signal;
pub(crate) mod waitid;

use std::io;

/// The errno of the last failed libc call.
pub(crate) fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The errno a test injected for `syscall` (see `fault`); always `None` in
/// builds without the `fault-injection` feature, where it compiles away.
#[inline]
pub(crate) fn injected(syscall: &str) -> Option<i32> {
    #[cfg(feature = "fault-injection")]
    {
        crate::fault::take(syscall)
    }
    #[cfg(not(feature = "fault-injection"))]
    {
        let _ = syscall;
        None
    }
}
