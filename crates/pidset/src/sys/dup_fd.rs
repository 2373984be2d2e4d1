//! Duplicating a descriptor number that may not be open: `spawn()`'s
//! `Stdio::Fd`, a number the caller gave.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// A close-on-exec duplicate of descriptor number `fd`, numbered `min` or
/// above (`fcntl(F_DUPFD_CLOEXEC)`). `fd` need not be open: EBADF then.
/// Errors are a positive errno.
pub(crate) fn dup_at_least(fd: RawFd, min: RawFd) -> Result<OwnedFd, i32> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) reads no memory of ours; for a number
    // that is not an open descriptor it fails with EBADF. (rustix's wants a
    // BorrowedFd, which a number that may be closed cannot soundly be.)
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) };
    if dup < 0 {
        return Err(super::last_errno());
    }
    // SAFETY: `dup` is a descriptor the kernel just created for us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}
