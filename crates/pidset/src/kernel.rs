//! What the running kernel offers, probed by trying each feature: the
//! version string says nothing of backports or of a sandbox (seccomp) that
//! forbids a call, and what users and tests need to know is what works.

use std::os::fd::AsFd;

use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};

use crate::error::Result;
use crate::foreign::Namespace;
use crate::pidfd::PidFd;
use crate::support;
use crate::sys::clone_exec::reap_child;
use crate::sys::fork_exit::fork_exiting;
use crate::sys::peer_pidfd::peer_pidfd;
use crate::sys::pidfd_info::{
    reaped_exit_status, record_exit_info_support, supported_mask, ReapedStatus, PIDFD_INFO_EXIT,
};
use crate::sys::pidfd_send_signal::pidfd_send_signal;
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
    /// `pidfd_getfd` (5.6): [`PidFd::get_fd`].
    pub get_fd: bool,
    /// `SO_PEERPIDFD` (6.5): [`PidFd::from_peer`].
    pub peer_pidfd: bool,
    /// pidfs (6.9): [`PidFd::id`], and [`PidFd::same_process`] exact for
    /// processes that have exited.
    pub pidfs: bool,
    /// `PIDFD_SIGNAL_*` scopes (6.9): [`PidFd::send_signal_to`].
    pub signal_scope: bool,
    /// `PIDFD_GET_*_NAMESPACE` (6.11): [`PidFd::namespace`].
    pub namespaces: bool,
    /// `PIDFD_INFO_SUPPORTED_MASK` (after 6.18; 7.3 has it): the kernel
    /// lists what `PIDFD_GET_INFO` can answer, so `get_info` and
    /// `exit_info` are read from that list instead of found by starting and
    /// reaping a child.
    pub supported_mask: bool,
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
                get_fd: false,
                peer_pidfd: false,
                pidfs: false,
                signal_scope: false,
                namespaces: false,
                supported_mask: false,
            })
        }
        Err(e) => return Err(e),
    };
    // This process is not its own child: ECHILD if P_PIDFD is known at all.
    let waitid_pidfd = !matches!(peek_exit(own.as_fd()), Err(libc::EINVAL));
    let listed = supported_mask(own.as_fd());
    let (get_info, exit_info) = match listed {
        Some(mask) => {
            let kept = mask & PIDFD_INFO_EXIT != 0;
            record_exit_info_support(kept);
            (true, kept)
        }
        None => probe_exit_info()?,
    };
    Ok(KernelSupport {
        pidfd_open: true,
        waitid_pidfd,
        nonblock: support::PIDFD_NONBLOCK.is_present(),
        get_info,
        exit_info,
        // No descriptor -1 anywhere: EBADF where the call exists.
        // No process has a descriptor that high: EBADF where the call exists.
        get_fd: !matches!(own.get_fd(i32::MAX), Err(e) if e.errno() == libc::ENOSYS),
        peer_pidfd: probe_peer_pidfd(),
        pidfs: own.id().is_ok(),
        // Signal 0 to our own thread group sends nothing; EINVAL before 6.9.
        signal_scope: !matches!(
            pidfd_send_signal(own.as_fd(), 0, PIDFD_SIGNAL_THREAD_GROUP),
            Err(libc::EINVAL)
        ),
        namespaces: !matches!(own.namespace(Namespace::Uts), Err(e) if e.errno() == libc::ENOTTY || e.errno() == libc::EINVAL),
        supported_mask: listed.is_some(),
    })
}

/// `PIDFD_SIGNAL_THREAD_GROUP`: the default scope, spelt out.
const PIDFD_SIGNAL_THREAD_GROUP: u32 = 1 << 1;

/// Whether a socket pair's peer pidfd can be had (it is this process).
fn probe_peer_pidfd() -> bool {
    let Ok((a, _b)) = socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    ) else {
        return false;
    };
    !matches!(peer_pidfd(a.as_fd()), Err(libc::ENOPROTOOPT))
}

/// Whether PIDFD_GET_INFO exists, and gives a reaped process's status,
/// found by trying: a child of ours, opened as a zombie, then reaped.
pub(crate) fn probe_exit_info() -> Result<(bool, bool)> {
    let child = fork_exiting(7).map_err(|errno| crate::Error::new(errno, "fork", None))?;
    // A zombie can be opened; it cannot be reaped until reap_child below.
    let opened = PidFd::open(child);
    reap_child(child);
    let pidfd = opened?;
    // The reap is complete when waitpid returns, so unlike a process someone
    // else reaps, the answer cannot be caught halfway: it is the kernel's.
    let known = matches!(reaped_exit_status(pidfd.as_fd(), true), ReapedStatus::Known(s) if s.code() == Some(7));
    record_exit_info_support(known);
    Ok((support::PIDFD_GET_INFO.is_present(), known))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the kernel lists its features, the list agrees with trying them.
    #[test]
    fn the_kernels_list_agrees_with_trying() {
        let own = PidFd::open(std::process::id() as i32).expect("pidfd_open of this process");
        let Some(mask) = supported_mask(own.as_fd()) else {
            eprintln!(
                "skipped: this kernel does not list its PIDFD_GET_INFO features (before 7.x)"
            );
            return;
        };
        let tried = probe_exit_info().expect("the probe child");
        assert_eq!(tried, (true, mask & PIDFD_INFO_EXIT != 0));
        assert!(kernel_support().expect("kernel_support").supported_mask);
    }
}
