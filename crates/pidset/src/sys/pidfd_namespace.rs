use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `ioctl(pidfd, PIDFD_GET_<kind>_NAMESPACE)` (Linux 6.11), where `nr` is
/// the ioctl's number (`_IO(0xFF, nr)`): a new descriptor, close-on-exec,
/// for that namespace of the process. Errors are a positive errno: ENOTTY
/// before 6.11, EOPNOTSUPP for a namespace kind the kernel was built
/// without, EPERM without ptrace read access, ESRCH once it has exited.
pub(crate) fn namespace_fd(pidfd: BorrowedFd<'_>, nr: u8) -> Result<OwnedFd, i32> {
    // _IO(0xFF, nr): no direction, no size.
    let request = (0xFF << 8) | libc::c_ulong::from(nr);
    loop {
        if let Some(errno) = super::injected("ioctl") {
            return Err(errno);
        }
        // SAFETY: these ioctls take no argument; the pidfd is borrowed.
        let ret = unsafe { libc::ioctl(pidfd.as_raw_fd(), request as _, 0) };
        if ret >= 0 {
            // SAFETY: on success the kernel returned a new descriptor, ours alone.
            return Ok(unsafe { OwnedFd::from_raw_fd(ret) });
        }
        match super::last_errno() {
            libc::EINTR => continue,
            errno => return Err(errno),
        }
    }
}
