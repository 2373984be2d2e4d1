//! The names JavaScript passes for a choice among a few, declared once here
//! as string enums: napi-rs generates their TypeScript (binding.d.ts) and
//! the runtime objects `lib/` validates arguments against, and converts them
//! into the core's types. No index tables on either side.

use napi_derive::napi;

/// Whom `pidfd.kill()` signals (`options.scope`).
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalScope {
    /// The process, as `kill(2)`.
    #[napi(value = "process")]
    Process,
    /// Its main thread only, as `tgkill(2)` (Linux 6.9).
    #[napi(value = "thread")]
    Thread,
    /// Every process in the group it leads, as `killpg(2)` (Linux 6.9).
    #[napi(value = "process-group")]
    ProcessGroup,
}

impl From<SignalScope> for pidset::SignalScope {
    fn from(scope: SignalScope) -> Self {
        match scope {
            SignalScope::Process => Self::Process,
            SignalScope::Thread => Self::Thread,
            SignalScope::ProcessGroup => Self::ProcessGroup,
        }
    }
}

/// A kind of namespace, as `pidfd.namespace()` takes it: the names of
/// `/proc/<pid>/ns/`.
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceKind {
    /// Control groups.
    #[napi(value = "cgroup")]
    Cgroup,
    /// System V IPC and POSIX message queues.
    #[napi(value = "ipc")]
    Ipc,
    /// Mounts.
    #[napi(value = "mnt")]
    Mnt,
    /// Network.
    #[napi(value = "net")]
    Net,
    /// PIDs: the one the process lives in.
    #[napi(value = "pid")]
    Pid,
    /// PIDs: the one its future children will live in.
    #[napi(value = "pid_for_children")]
    PidForChildren,
    /// Clocks (boot and monotonic offsets).
    #[napi(value = "time")]
    Time,
    /// Clocks: the one its future children will use.
    #[napi(value = "time_for_children")]
    TimeForChildren,
    /// User and group IDs.
    #[napi(value = "user")]
    User,
    /// Host and domain names.
    #[napi(value = "uts")]
    Uts,
}

impl From<NamespaceKind> for pidset::Namespace {
    fn from(kind: NamespaceKind) -> Self {
        match kind {
            NamespaceKind::Cgroup => Self::Cgroup,
            NamespaceKind::Ipc => Self::Ipc,
            NamespaceKind::Mnt => Self::Mnt,
            NamespaceKind::Net => Self::Net,
            NamespaceKind::Pid => Self::Pid,
            NamespaceKind::PidForChildren => Self::PidForChildren,
            NamespaceKind::Time => Self::Time,
            NamespaceKind::TimeForChildren => Self::TimeForChildren,
            NamespaceKind::User => Self::User,
            NamespaceKind::Uts => Self::Uts,
        }
    }
}

/// What a child's stdin, stdout or stderr is, when not a descriptor of
/// this process's (`spawn()`'s `stdio`).
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdioKind {
    /// A new socket pair; this process's end comes back in `streams`.
    #[napi(value = "pipe")]
    Pipe,
    /// This process's own stream.
    #[napi(value = "inherit")]
    Inherit,
    /// `/dev/null`.
    #[napi(value = "ignore")]
    Ignore,
}

impl From<StdioKind> for pidset::Stdio {
    fn from(kind: StdioKind) -> Self {
        match kind {
            StdioKind::Pipe => Self::Pipe,
            StdioKind::Inherit => Self::Inherit,
            StdioKind::Ignore => Self::Null,
        }
    }
}

/// The operation a failure object names (`operation`, beside `errno` and
/// `syscall`), for the failures `lib/` tells apart: the core's
/// [`pidset::Operation`]s, and the binding's own start of its libuv
/// front-end.
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `pidfd_open`.
    #[napi(value = "open-pidfd")]
    OpenPidfd,
    /// Checking that a descriptor is a pidfd: EINVAL means it is not one.
    #[napi(value = "check-pidfd")]
    CheckPidfd,
    /// `pidfd_getfd`.
    #[napi(value = "get-fd")]
    GetFd,
    /// `getsockopt(SO_PEERPIDFD)`.
    #[napi(value = "peer-pidfd")]
    PeerPidfd,
    /// A pidfd's pidfs inode number.
    #[napi(value = "identity")]
    Identity,
    /// A signal to the main thread only.
    #[napi(value = "signal-thread")]
    SignalThread,
    /// A signal to the process group the process leads: ESRCH from a
    /// running process means it leads none.
    #[napi(value = "signal-process-group")]
    SignalProcessGroup,
    /// A namespace's descriptor.
    #[napi(value = "namespace")]
    Namespace,
    /// `PIDFD_GET_INFO`.
    #[napi(value = "get-info")]
    GetInfo,
    /// Watching on the runtime's libuv loop: ENOSYS means the runtime has
    /// no libuv.
    #[napi(value = "libuv-loop")]
    LibuvLoop,
    /// A cgroup of a child's own: creating, joining, reading or killing it.
    #[napi(value = "cgroup")]
    Cgroup,
}

impl From<pidset::Operation> for Operation {
    fn from(op: pidset::Operation) -> Self {
        match op {
            pidset::Operation::OpenPidfd => Self::OpenPidfd,
            pidset::Operation::CheckPidfd => Self::CheckPidfd,
            pidset::Operation::GetFd => Self::GetFd,
            pidset::Operation::PeerPidfd => Self::PeerPidfd,
            pidset::Operation::Identity => Self::Identity,
            pidset::Operation::SignalThread => Self::SignalThread,
            pidset::Operation::SignalProcessGroup => Self::SignalProcessGroup,
            pidset::Operation::Namespace(_) => Self::Namespace,
            pidset::Operation::GetInfo => Self::GetInfo,
            pidset::Operation::Cgroup => Self::Cgroup,
        }
    }
}
