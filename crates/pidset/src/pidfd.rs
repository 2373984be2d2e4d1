use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{pidfd_open, Pid, PidfdFlags};

use crate::error::{Error, Result};
use crate::exit_info::ExitInfo;
use crate::inherited_rss;
use crate::operation::Operation;
use crate::support::PIDFD_NONBLOCK;
use crate::sys::injected;
use crate::sys::pidfd_info::{live_info, reaped_exit_status, ReapedStatus};
use crate::sys::pidfd_send_signal::pidfd_send_signal;
use crate::sys::waitid::{peek_exit, reap_exit, Peek};

/// How long to wait for the parent of somebody else's process to reap it,
/// once it has exited, so as to report its exit status (which the kernel
/// keeps only from the reap on). Parents that handle SIGCHLD reap within
/// microseconds to milliseconds; one that never reaps (a shell blocked in a
/// builtin, a stopped process) must not hold a waiter for ever, so after this
/// the exit is reported without the status.
pub const REAP_GRACE: Duration = Duration::from_millis(100);

/// How long [`PidFd::exit_info`] waits for a reap of one of our children
/// that it finds in progress to end: microseconds in practice; the bound
/// only keeps a stuck kernel from holding the caller.
const REAP_IN_PROGRESS: Duration = Duration::from_millis(10);

/// A race-free handle to one process: a pidfd.
///
/// The descriptor refers to the process itself, not to its PID, so after the
/// process exits and its PID is reused, signals sent through this handle fail
/// with "exited" instead of reaching the newcomer. It is close-on-exec and
/// closed on drop.
#[derive(Debug)]
pub struct PidFd {
    fd: OwnedFd,
    pid: i32,
}

/// Where a process is in its life, as its pidfd polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Running,
    /// Exited, a zombie until its parent reaps it.
    Exited,
    /// Reaped (POLLHUP; Linux 6.9+ tells this apart from `Exited`).
    Reaped,
}

impl PidFd {
    /// Opens a handle to the process `pid` (`pidfd_open`, Linux 5.3+).
    ///
    /// Fails with `ESRCH` if there is no such process; for a thread ID that
    /// is not a process, with `EINVAL` before Linux 6.15 and `ENOENT` from
    /// 6.15; with `EINVAL` for a `pid` that is not positive.
    pub fn open(pid: i32) -> Result<Self> {
        // Checked here because rustix's Pid::from_raw panics on negatives.
        let raw = (pid > 0)
            .then(|| Pid::from_raw(pid))
            .flatten()
            .ok_or(Error::of(Operation::OpenPidfd, libc::EINVAL, Some(pid)))?;
        let open = |flags| match injected("pidfd_open") {
            Some(errno) => Err(Errno::from_raw_os_error(errno)),
            None => pidfd_open(raw, flags),
        };
        // PIDFD_NONBLOCK (5.10) makes a mistaken blocking waitid fail with
        // EAGAIN rather than stall the caller's thread. Every call here passes
        // WNOHANG anyway, so on 5.3-5.9, which reject the flag with EINVAL,
        // a blocking descriptor is just as good; which one the kernel takes
        // is learned once.
        let fd = if PIDFD_NONBLOCK.is_absent() {
            open(PidfdFlags::empty())
        } else {
            match open(PidfdFlags::NONBLOCK) {
                Err(Errno::INVAL) => {
                    let plain = open(PidfdFlags::empty());
                    // EINVAL again means the pid (a thread ID), not the flag.
                    if plain.is_ok() {
                        PIDFD_NONBLOCK.set(false);
                    }
                    plain
                }
                other => {
                    if other.is_ok() && !PIDFD_NONBLOCK.is_present() {
                        PIDFD_NONBLOCK.set(true);
                    }
                    other
                }
            }
        }
        .map_err(|e| Error::of(Operation::OpenPidfd, e.raw_os_error(), Some(pid)))?;
        Ok(Self { fd, pid })
    }

    /// A handle from a pidfd the kernel gave for `pid` (`CLONE_PIDFD`).
    pub(crate) fn from_owned(fd: OwnedFd, pid: i32) -> Self {
        Self { fd, pid }
    }

    /// The PID the process had when it was opened.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether the process has exited. Never blocks.
    ///
    /// A pidfd polls readable once the whole thread group has exited, whether
    /// or not anyone has reaped it, so this is the one test that works the
    /// same for our children and for anyone else's.
    pub fn has_exited(&self) -> Result<bool> {
        Ok(self.poll_stage(Some(Duration::ZERO))? != Stage::Running)
    }

    /// Sends `signal` (a number; 0 only checks that it could be sent).
    ///
    /// Returns `Ok(true)` if it was sent and `Ok(false)` if the process had
    /// already exited, in which case nothing was sent: a zombie would accept
    /// the signal, and a reused PID is never reached through a pidfd.
    pub fn send_signal(&self, signal: i32) -> Result<bool> {
        self.send_signal_to(signal, SignalScope::Process)
    }

    /// Sends `signal` to the process, one of its threads or its process
    /// group, as `scope` says; as [`PidFd::send_signal`] otherwise. A scope
    /// other than `Process` needs Linux 6.9: older kernels fail with ENOSYS
    /// (the call is named after the flag, so the error says which).
    ///
    /// `ProcessGroup` reaches the group whose ID is the process's PID: the
    /// group it leads. For a running process that leads none it fails with
    /// ESRCH rather than return `false` (nothing was sent, but the process
    /// is there): signalling the group it is in instead could reach the
    /// caller's own group (a child that was not `detached` is in ours).
    pub fn send_signal_to(&self, signal: i32, scope: SignalScope) -> Result<bool> {
        if self.has_exited()? {
            return Ok(false);
        }
        let (flags, operation) = scope.flags();
        let error = |errno| match operation {
            Some(op) => Error::of(op, errno, Some(self.pid)),
            None => Error::new(errno, "pidfd_send_signal", Some(self.pid)),
        };
        match pidfd_send_signal(self.fd.as_fd(), signal, flags) {
            Ok(()) => Ok(true),
            Err(libc::ESRCH) if scope == SignalScope::ProcessGroup && !self.has_exited()? => {
                Err(error(libc::ESRCH))
            }
            Err(libc::ESRCH) => Ok(false),
            // Before 6.9 every flag is unknown: EINVAL. The signal number
            // was checked by the caller, so that is what EINVAL means here.
            Err(libc::EINVAL) if flags != 0 => Err(error(libc::ENOSYS)),
            Err(errno) => Err(error(errno)),
        }
    }

    /// What is known of its exit, or `None` while it is still running.
    /// Never blocks and never reaps.
    ///
    /// For our own child, `waitid(WNOWAIT)` gives the status and resource
    /// usage and leaves the zombie for whoever spawned it. For anyone else's
    /// process (or a child already reaped, say by Node's `child_process`),
    /// Linux 6.15+ keeps the status once the parent has reaped it; until then
    /// [`ExitInfo::status_at_reap`] says that it is worth asking again.
    pub fn exit_info(&self) -> Result<Option<ExitInfo>> {
        // waitid first: for a zombie child it answers in one call, with no
        // poll, which matters because this runs right as the process dies.
        let running_child = match self.peek_child_exit()? {
            ChildExit::Exited(info) => return Ok(Some(info)),
            ChildExit::NotYet => true,
            ChildExit::NotWaitable => false,
        };
        let stage = self.poll_stage(Some(Duration::ZERO))?;
        if stage == Stage::Running {
            return Ok(None);
        }
        // A child of ours that exited between the two calls is waitable now.
        if running_child {
            if let ChildExit::Exited(info) = self.peek_child_exit()? {
                return Ok(Some(info));
            }
        }
        let mut reaped = reaped_exit_status(self.fd.as_fd(), stage == Stage::Reaped);
        if matches!(reaped, ReapedStatus::AtReap) && self.is_being_reaped_here() {
            // Our own child, exited, gone from waitid, not yet reaped: this
            // process is reaping it right now, on another thread (the
            // portable front-end's collector) or by a waitpid(-1). The
            // kernel posts the status (6.15+) as it finishes that reap,
            // moments away: wait for the hang-up that ends it, briefly,
            // rather than report no status.
            if self.poll_stage_for(PollFlags::empty(), Some(REAP_IN_PROGRESS))? == Stage::Reaped {
                reaped = reaped_exit_status(self.fd.as_fd(), true);
            }
        }
        let (status, status_at_reap) = match reaped {
            ReapedStatus::Known(status) => (Some(status), false),
            ReapedStatus::AtReap => (None, true),
            ReapedStatus::Unknown => (None, false),
        };
        Ok(Some(ExitInfo {
            pid: self.pid,
            status,
            rusage: None,
            status_at_reap,
        }))
    }

    /// Whether the process, exited and not yet reaped, is this process's
    /// child (its parent, as `PIDFD_GET_INFO` says; false where it cannot).
    fn is_being_reaped_here(&self) -> bool {
        live_info(self.fd.as_fd())
            .is_ok_and(|info| u32::try_from(info.ppid) == Ok(std::process::id()))
    }

    /// Whether the process is a child of this process that nobody has reaped
    /// (`waitid(P_PIDFD, WNOWAIT)` answers for it rather than ECHILD). Before
    /// Linux 5.4 there is no way to ask, and the answer is `true`.
    pub fn is_unreaped_child(&self) -> Result<bool> {
        match peek_exit(self.fd.as_fd()) {
            Ok(_) | Err(libc::EINVAL) => Ok(true),
            Err(libc::ECHILD) => Ok(false),
            Err(errno) => Err(Error::new(errno, "waitid", Some(self.pid))),
        }
    }

    /// A second handle to the same process (a duplicate descriptor, also
    /// close-on-exec), to be closed independently of this one.
    pub fn try_clone(&self) -> Result<Self> {
        let fd = self.fd.try_clone().map_err(|e| {
            Error::new(
                e.raw_os_error().unwrap_or(libc::EMFILE),
                "dup",
                Some(self.pid),
            )
        })?;
        Ok(Self { fd, pid: self.pid })
    }

    /// Reaps the process, a child of ours that has exited, and returns its
    /// exit (status and resource usage); `None` while it runs. For children
    /// this library started ([`crate::spawn`]), whose owner it is: reaping
    /// someone else's child (Node's `child_process`) would take its exit
    /// from it, so only [`crate::OwnedChild`] and the orphan reaper call
    /// this. Fails with ECHILD if it is not our child or already reaped.
    pub(crate) fn reap(&self) -> Result<Option<ExitInfo>> {
        match reap_exit(self.fd.as_fd()) {
            Ok(Peek::Exited(status, rusage)) => Ok(Some(ExitInfo {
                pid: self.pid,
                status,
                rusage: Some(inherited_rss::judge_reaped(self.pid, rusage)),
                status_at_reap: false,
            })),
            Ok(Peek::NotYet) => Ok(None),
            Err(errno) => Err(Error::new(errno, "waitid", Some(self.pid))),
        }
    }

    /// What `waitid(WNOWAIT)` says of the process, as a child of ours.
    fn peek_child_exit(&self) -> Result<ChildExit> {
        match peek_exit(self.fd.as_fd()) {
            Ok(Peek::Exited(status, rusage)) => Ok(ChildExit::Exited(ExitInfo {
                pid: self.pid,
                status,
                rusage: Some(inherited_rss::judge(self.pid, rusage)),
                status_at_reap: false,
            })),
            // Running, or exited but held by a ptrace tracer (its pidfd is
            // readable, but the status is not waitable yet).
            Ok(Peek::NotYet) => Ok(ChildExit::NotYet),
            // ECHILD: not our child, or already reaped. EINVAL: no P_PIDFD
            // (Linux < 5.4). Either way, the caller asks pidfs instead.
            Err(libc::ECHILD) | Err(libc::EINVAL) => Ok(ChildExit::NotWaitable),
            Err(errno) => Err(Error::new(errno, "waitid", Some(self.pid))),
        }
    }

    /// Blocks until the process exits or `timeout` elapses (`None`: no limit).
    /// Returns `None` on timeout. For somebody else's process whose status
    /// comes at its reap, waits for that too, up to [`REAP_GRACE`] (within
    /// `timeout`). For programs without an event loop; Node users get the
    /// same through `PidFd.wait()` without blocking.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Option<ExitInfo>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        if self.poll_stage(timeout)? == Stage::Running {
            return Ok(None);
        }
        let info = self.exit_info()?;
        if !info.is_some_and(|i| i.status_at_reap) {
            return Ok(info);
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let grace = left.map_or(REAP_GRACE, |l| l.min(REAP_GRACE));
        let grace_end = Instant::now() + grace;
        loop {
            let left = grace_end.saturating_duration_since(Instant::now());
            if left.is_zero()
                || self.poll_stage_for(PollFlags::empty(), Some(left))? == Stage::Reaped
            {
                break;
            }
        }
        self.exit_info()
    }

    /// Polls the descriptor for the exit (`POLLIN`), retrying on EINTR with
    /// what is left of the timeout.
    fn poll_stage(&self, timeout: Option<Duration>) -> Result<Stage> {
        self.poll_stage_for(PollFlags::IN, timeout)
    }

    /// Polls for `interest` (`POLLHUP`, the reap, is always reported).
    fn poll_stage_for(&self, interest: PollFlags, timeout: Option<Duration>) -> Result<Stage> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(errno) = injected("poll") {
                return Err(Error::new(errno, "poll", Some(self.pid)));
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            // A duration too large for a timespec is as good as no limit.
            let spec = left.and_then(|d| Timespec::try_from(d).ok());
            let mut fds = [PollFd::new(&self.fd, interest)];
            match poll(&mut fds, spec.as_ref()) {
                Ok(0) => return Ok(Stage::Running),
                Ok(_) => {
                    let revents = fds[0].revents();
                    return Ok(if revents.contains(PollFlags::HUP) {
                        Stage::Reaped
                    } else if revents.contains(PollFlags::IN) {
                        Stage::Exited
                    } else {
                        Stage::Running
                    });
                }
                Err(Errno::INTR) => continue,
                Err(e) => return Err(Error::from_rustix(e, "poll", self.pid)),
            }
        }
    }
}

/// Whom [`PidFd::send_signal_to`] signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalScope {
    /// The process (its thread group), as `kill(2)` does.
    Process,
    /// Only the thread the pidfd refers to: for a process's pidfd, its
    /// main thread (`PIDFD_SIGNAL_THREAD`, Linux 6.9), as `tgkill(2)`.
    Thread,
    /// The process group the process belongs to
    /// (`PIDFD_SIGNAL_PROCESS_GROUP`, Linux 6.9), as `killpg(2)`.
    ProcessGroup,
}

impl SignalScope {
    /// The `PIDFD_SIGNAL_*` flag, and the operation errors name (none for
    /// the default scope: a plain `pidfd_send_signal`).
    fn flags(self) -> (u32, Option<Operation>) {
        match self {
            Self::Process => (0, None),
            Self::Thread => (1 << 0, Some(Operation::SignalThread)),
            Self::ProcessGroup => (1 << 2, Some(Operation::SignalProcessGroup)),
        }
    }
}

/// What `waitid(WNOWAIT)` told of a process.
enum ChildExit {
    /// Our zombie child, with its status and resource usage.
    Exited(ExitInfo),
    /// Our child, with nothing to report yet.
    NotYet,
    /// Not our child, already reaped, or no `P_PIDFD` on this kernel.
    NotWaitable,
}

impl AsFd for PidFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<PidFd> for OwnedFd {
    fn from(pidfd: PidFd) -> Self {
        pidfd.fd
    }
}
