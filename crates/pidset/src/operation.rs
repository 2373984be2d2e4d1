//! The operations whose failures a caller must tell apart, beyond the
//! errno: those only some kernels have (so that an error can say which
//! Linux brought them) and those whose failure means something of its own
//! (a descriptor that is not a pidfd). An [`Error`](crate::Error) made by
//! one of them carries it, and its name as the error's `syscall`.

use crate::foreign::Namespace;

/// An operation of pidset's that its errors name: see the module docs.
/// Exhaustive on purpose: a new one does not compile until the binding,
/// which names it to JavaScript, knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `pidfd_open`: pidset's foundation.
    OpenPidfd,
    /// Reading the `Pid:` line of a descriptor's fdinfo, which only pidfds
    /// have: EINVAL means the descriptor is not a pidfd.
    CheckPidfd,
    /// `pidfd_getfd`.
    GetFd,
    /// `getsockopt(SO_PEERPIDFD)`.
    PeerPidfd,
    /// A pidfd's pidfs inode number: [`PidFd::id`](crate::PidFd::id).
    Identity,
    /// `pidfd_send_signal` with `PIDFD_SIGNAL_THREAD`.
    SignalThread,
    /// `pidfd_send_signal` with `PIDFD_SIGNAL_PROCESS_GROUP`: ESRCH from a
    /// running process means it leads no group.
    SignalProcessGroup,
    /// The `PIDFD_GET_<kind>_NAMESPACE` ioctl.
    Namespace(Namespace),
    /// The `PIDFD_GET_INFO` ioctl.
    GetInfo,
    /// Creating, joining, reading or killing a cgroup (v2) of a child's own.
    Cgroup,
}

impl Operation {
    /// The name its errors carry as their `syscall`.
    pub fn call(self) -> &'static str {
        match self {
            Self::OpenPidfd => "pidfd_open",
            Self::CheckPidfd => "fdinfo Pid",
            Self::GetFd => "pidfd_getfd",
            Self::PeerPidfd => "getsockopt SO_PEERPIDFD",
            Self::Identity => "fstat pidfs",
            Self::SignalThread => "pidfd_send_signal PIDFD_SIGNAL_THREAD",
            Self::SignalProcessGroup => "pidfd_send_signal PIDFD_SIGNAL_PROCESS_GROUP",
            Self::Namespace(kind) => kind.ioctl().1,
            Self::GetInfo => "ioctl PIDFD_GET_INFO",
            Self::Cgroup => "cgroup",
        }
    }

    /// The first Linux release that has it: a kernel that fails it with
    /// ENOSYS, ENOTTY or ENOPROTOOPT is older (or forbids it).
    pub fn since(self) -> &'static str {
        match self {
            Self::OpenPidfd | Self::CheckPidfd => "5.3",
            Self::GetFd => "5.6",
            Self::PeerPidfd => "6.5",
            Self::Identity | Self::SignalThread | Self::SignalProcessGroup => "6.9",
            Self::Namespace(_) => "6.11",
            Self::GetInfo => "6.13",
            // cgroup.freeze; cgroup.kill (5.14) falls back to freezing.
            Self::Cgroup => "5.2",
        }
    }
}
