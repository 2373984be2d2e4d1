//! Pidfds that come from elsewhere: one this process was given (inherited,
//! or received over a Unix socket) and the one behind a Unix-domain
//! socket's peer: [`PidFd::adopt`] and [`PidFd::from_peer`].

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use rustix::io::fcntl_dupfd_cloexec;

use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::pidfd::PidFd;
use crate::sys::peer_pidfd::peer_pidfd;

impl PidFd {
    /// A handle of its own (a close-on-exec duplicate) to the process that
    /// pidfd `fd` refers to; `fd` stays the caller's. Fails with EINVAL
    /// ([`Operation::CheckPidfd`]) if `fd` is not a pidfd, EBADF if it is not
    /// open, and ESRCH if its process has been reaped or is outside this
    /// PID namespace (its PID here is unknown).
    pub fn adopt(fd: BorrowedFd<'_>) -> Result<Self> {
        let pid = pidfd_pid(fd)?;
        let own = fcntl_dupfd_cloexec(fd, 0).map_err(|e| Error::from_rustix(e, "fcntl", pid))?;
        Ok(Self::from_owned(own, pid))
    }

    /// A handle to the process at the other end of connected Unix-domain
    /// socket `socket`: the one that connected it, or created the socket
    /// pair (`SO_PEERPIDFD`, Linux 6.5; ENOPROTOOPT before). ENODATA for a
    /// socket with no peer process (not connected, or not Unix-domain).
    pub fn from_peer(socket: BorrowedFd<'_>) -> Result<Self> {
        let fd =
            peer_pidfd(socket).map_err(|errno| Error::of(Operation::PeerPidfd, errno, None))?;
        let pid = pidfd_pid(fd.as_fd())?;
        Ok(Self::from_owned(fd, pid))
    }
}

/// The PID (in this namespace) of the process pidfd `fd` refers to, from
/// the `Pid:` line of its fdinfo, which only pidfds have (Linux 5.3+): -1
/// once the process is reaped (5.13+), 0 outside this PID namespace.
fn pidfd_pid(fd: BorrowedFd<'_>) -> Result<i32> {
    let raw = fd.as_raw_fd();
    let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{raw}")).map_err(|e| {
        let errno = match e.raw_os_error() {
            Some(libc::ENOENT) | None => libc::EBADF,
            Some(errno) => errno,
        };
        Error::new(errno, "read /proc/self/fdinfo", None)
    })?;
    let pid = fdinfo
        .lines()
        .find_map(|line| line.strip_prefix("Pid:"))
        .and_then(|value| value.trim().parse::<i32>().ok())
        .ok_or(Error::of(Operation::CheckPidfd, libc::EINVAL, None))?;
    if pid <= 0 {
        return Err(Error::of(Operation::CheckPidfd, libc::ESRCH, None));
    }
    Ok(pid)
}
