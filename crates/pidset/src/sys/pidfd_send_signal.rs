use std::os::fd::{AsRawFd, BorrowedFd};

/// `pidfd_send_signal(pidfd, signal, NULL, flags)`; `flags` 0 or one of
/// the `PIDFD_SIGNAL_*` scopes (Linux 6.9, which older kernels refuse with
/// EINVAL).
///
/// rustix's wrapper takes a `Signal`, which cannot express signal 0 (the
/// permission check) or the real-time signals, so the raw call is used.
/// Errors come back as a positive errno.
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32, flags: u32) -> Result<(), i32> {
    if let Some(errno) = super::injected("pidfd_send_signal") {
        return Err(errno);
    }
    // SAFETY: a null siginfo pointer is what the kernel documents for a
    // plain kill(2)-like signal; plain integer flags; the fd is borrowed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            flags,
        )
    };
    if ret == -1 {
        Err(super::last_errno())
    } else {
        Ok(())
    }
}
