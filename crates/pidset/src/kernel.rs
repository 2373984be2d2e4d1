//! What the running kernel offers, probed by trying each feature: the
//! version string says nothing of backports or of a sandbox (seccomp) that
//! forbids a call, and what users and tests need to know is what works.

use std::os::fd::AsFd;

use crate::error::Result;
use crate::pidfd::PidFd;
use crate::support;
use crate::sys::pidfd_info::{reaped_exit_status, record_exit_info_support, ReapedStatus};
use crate::sys::waitid::peek_exit;

/// The pidfd features of the running kernel (and sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSupport {
    /// `pidfd_open` (Linux 5.3): without it there is nothing to watch.
    pub pidfd_open: bool,
    /// `waitid(P_PIDFD)` (5.4): our own children's exit status and resource
    /// usage while they are not reaped.
    pub waitid_pidfd: bool,
    /// `PIDFD_NONBLOCK` (5.10).
    pub nonblock: bool,
    /// The `PIDFD_GET_INFO` ioctl (6.13).
    pub get_info: bool,
    /// `PIDFD_INFO_EXIT` (6.15): the exit status of a process after its
    /// parent has reaped it, so that it is known for any process.
    pub exit_info: bool,
}

/// Probes the running kernel. It opens a pidfd to this process and starts
/// and reaps one short-lived child (a `fork` that exits at once), so call it
/// once, not on a hot path. Fails only if this process cannot fork or open
/// descriptors (EMFILE, EAGAIN).
pub fn kernel_support() -> Result<KernelSupport> {
    let own = match PidFd::open(std::process::id() as i32) {
        Ok(own) => own,
        Err(e) if e.errno() == libc::ENOSYS => {
            return Ok(KernelSupport {
                pidfd_open: false,
                waitid_pidfd: false,
                nonblock: false,
                get_info: false,
                exit_info: false,
            })
        }
        Err(e) => return Err(e),
    };
    // This process is not its own child: ECHILD if P_PIDFD is known at all.
    let waitid_pidfd = !matches!(peek_exit(own.as_fd()), Err(libc::EINVAL));
    let (get_info, exit_info) = probe_exit_info()?;
    Ok(KernelSupport {
        pidfd_open: true,
        waitid_pidfd,
        nonblock: support::PIDFD_NONBLOCK.is_present(),
        get_info,
        exit_info,
    })
}

/// Whether PIDFD_GET_INFO exists, and gives a reaped process's status.
fn probe_exit_info() -> Result<(bool, bool)> {
    // SAFETY: the child calls only _exit, which is async-signal-safe, so
    // forking a multithreaded process is sound.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: ends the child at once, running nothing of the parent's.
        unsafe { libc::_exit(7) };
    }
    if child < 0 {
        return Err(crate::Error::new(crate::sys::last_errno(), "fork", None));
    }
    // A zombie can be opened; it cannot be reaped until waitpid below.
    let opened = PidFd::open(child);
    let mut status = 0;
    // SAFETY: reaps our own child, writing its status into a local.
    while unsafe { libc::waitpid(child, &mut status, 0) } < 0
        && crate::sys::last_errno() == libc::EINTR
    {}
    let pidfd = opened?;
    // The reap is complete when waitpid returns, so unlike a process someone
    // else reaps, the answer cannot be caught halfway: it is the kernel's.
    let known = matches!(reaped_exit_status(pidfd.as_fd(), true), ReapedStatus::Known(s) if s.code() == Some(7));
    record_exit_info_support(known);
    Ok((support::PIDFD_GET_INFO.is_present(), known))
}
