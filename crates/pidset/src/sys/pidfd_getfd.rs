use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `pidfd_getfd(pidfd, target, 0)` (Linux 5.6): a duplicate, in this
/// process, of descriptor `target` of the process; the kernel marks it
/// close-on-exec. Errors are a positive errno: ENOSYS before 5.6, EPERM
/// without ptrace access to the process, EBADF if `target` is not open
/// there, ESRCH once the process has exited.
pub(crate) fn pidfd_getfd(pidfd: BorrowedFd<'_>, target: i32) -> Result<OwnedFd, i32> {
    if let Some(errno) = super::injected("pidfd_getfd") {
        return Err(errno);
    }
    // SAFETY: plain integer arguments; the pidfd is borrowed for the call.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0u32) };
    if ret < 0 {
        return Err(super::last_errno());
    }
    // SAFETY: on success the kernel returned a new descriptor, ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
}
