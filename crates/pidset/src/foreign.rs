//! What a pidfd reaches inside its process: [`PidFd::get_fd`] (a copy of
//! one of its descriptors) and [`PidFd::namespace`] (one of its namespaces).

use std::os::fd::{AsFd, OwnedFd};

use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::pidfd::PidFd;
use crate::sys::injected;
use crate::sys::pidfd_namespace::namespace_fd;

/// A kind of namespace, as `PidFd::namespace` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Control groups.
    Cgroup,
    /// System V IPC and POSIX message queues.
    Ipc,
    /// Mounts.
    Mnt,
    /// Network.
    Net,
    /// PIDs: the one the process lives in.
    Pid,
    /// PIDs: the one its future children will live in.
    PidForChildren,
    /// Clocks (boot and monotonic offsets).
    Time,
    /// Clocks: the one its future children will use.
    TimeForChildren,
    /// User and group IDs.
    User,
    /// Host and domain names.
    Uts,
}

impl Namespace {
    /// The number of its `PIDFD_GET_<kind>_NAMESPACE` ioctl, and the name
    /// its errors carry ([`Operation::call`]).
    pub(crate) fn ioctl(self) -> (u8, &'static str) {
        match self {
            Self::Cgroup => (1, "ioctl PIDFD_GET_CGROUP_NAMESPACE"),
            Self::Ipc => (2, "ioctl PIDFD_GET_IPC_NAMESPACE"),
            Self::Mnt => (3, "ioctl PIDFD_GET_MNT_NAMESPACE"),
            Self::Net => (4, "ioctl PIDFD_GET_NET_NAMESPACE"),
            Self::Pid => (5, "ioctl PIDFD_GET_PID_NAMESPACE"),
            Self::PidForChildren => (6, "ioctl PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE"),
            Self::Time => (7, "ioctl PIDFD_GET_TIME_NAMESPACE"),
            Self::TimeForChildren => (8, "ioctl PIDFD_GET_TIME_FOR_CHILDREN_NAMESPACE"),
            Self::User => (9, "ioctl PIDFD_GET_USER_NAMESPACE"),
            Self::Uts => (10, "ioctl PIDFD_GET_UTS_NAMESPACE"),
        }
    }
}

impl PidFd {
    /// A copy, in this process, of descriptor `target` of the process
    /// (`pidfd_getfd`, Linux 5.6; close-on-exec). Both then refer to the
    /// same open file: a listening socket taken this way accepts
    /// connections here. Needs ptrace access to the process (same user and
    /// a Yama `ptrace_scope` that allows it, or CAP_SYS_PTRACE): EPERM
    /// otherwise; EBADF if `target` is not open there; ESRCH once it has
    /// exited; ENOSYS before 5.6.
    pub fn get_fd(&self, target: i32) -> Result<OwnedFd> {
        if let Some(errno) = injected("pidfd_getfd") {
            return Err(Error::of(Operation::GetFd, errno, Some(self.pid())));
        }
        // No descriptor is negative (the kernel says EBADF); rustix asserts
        // as much in debug builds, so it is answered here.
        if target < 0 {
            return Err(Error::of(Operation::GetFd, libc::EBADF, Some(self.pid())));
        }
        rustix::process::pidfd_getfd(self, target, rustix::process::PidfdGetfdFlags::empty())
            .map_err(|e| Error::of(Operation::GetFd, e.raw_os_error(), Some(self.pid())))
    }

    /// A descriptor for the process's namespace of `kind` (Linux 6.11;
    /// close-on-exec), for `setns(2)` or tools that take one. ENOTTY before
    /// 6.11, EOPNOTSUPP for a kind the kernel was built without, EPERM
    /// without ptrace read access, ESRCH once it has exited.
    pub fn namespace(&self, kind: Namespace) -> Result<OwnedFd> {
        namespace_fd(self.as_fd(), kind.ioctl().0)
            .map_err(|errno| Error::of(Operation::Namespace(kind), errno, Some(self.pid())))
    }
}
