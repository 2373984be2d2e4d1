use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{pidfd_open, Pid, PidfdFlags};

use crate::error::{Error, Result};
use crate::exit_info::ExitInfo;
use crate::sys::pidfd_info::reaped_exit_status;
use crate::sys::pidfd_send_signal::pidfd_send_signal;
use crate::sys::waitid::{peek_exit, Peek};

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

impl PidFd {
    /// Opens a handle to the process `pid` (`pidfd_open`, Linux 5.3+).
    ///
    /// Fails with `ESRCH` if there is no such process, `EINVAL` if `pid` is
    /// not a positive number or names a thread rather than a process.
    pub fn open(pid: i32) -> Result<Self> {
        // Checked here because rustix's Pid::from_raw panics on negatives.
        let raw = (pid > 0)
            .then(|| Pid::from_raw(pid))
            .flatten()
            .ok_or(Error::new(libc::EINVAL, "pidfd_open", Some(pid)))?;
        // PIDFD_NONBLOCK (5.10) makes a mistaken blocking waitid fail with
        // EAGAIN rather than stall the caller's thread. Every call here passes
        // WNOHANG anyway, so on 5.3-5.9, which reject the flag with EINVAL,
        // a blocking descriptor is just as good.
        let fd = match pidfd_open(raw, PidfdFlags::NONBLOCK) {
            Err(Errno::INVAL) => pidfd_open(raw, PidfdFlags::empty()),
            other => other,
        }
        .map_err(|e| Error::from_rustix(e, "pidfd_open", pid))?;
        Ok(Self { fd, pid })
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
        self.poll_exit(Some(Duration::ZERO))
    }

    /// Sends `signal` (a number; 0 only checks that it could be sent).
    ///
    /// Returns `Ok(true)` if it was sent and `Ok(false)` if the process had
    /// already exited, in which case nothing was sent: a zombie would accept
    /// the signal, and a reused PID is never reached through a pidfd.
    pub fn send_signal(&self, signal: i32) -> Result<bool> {
        if self.has_exited()? {
            return Ok(false);
        }
        match pidfd_send_signal(self.fd.as_fd(), signal) {
            Ok(()) => Ok(true),
            Err(libc::ESRCH) => Ok(false),
            Err(errno) => Err(Error::new(errno, "pidfd_send_signal", Some(self.pid))),
        }
    }

    /// What is known of its exit, or `None` while it is still running.
    /// Never blocks and never reaps.
    ///
    /// For our own child, `waitid(WNOWAIT)` gives the status and resource
    /// usage and leaves the zombie for whoever spawned it. For anyone else's
    /// process (or a child already reaped, say by Node's `child_process`),
    /// Linux 6.15+ keeps the status once the parent has reaped it.
    pub fn exit_info(&self) -> Result<Option<ExitInfo>> {
        // waitid first: for a zombie child it answers in one call, with no
        // poll, which matters because this runs right as the process dies,
        // when every system call touching it is at its slowest.
        let running_child = match self.peek_child_exit()? {
            ChildExit::Exited(info) => return Ok(Some(info)),
            ChildExit::NotYet => true,
            ChildExit::NotWaitable => false,
        };
        if !self.has_exited()? {
            return Ok(None);
        }
        // A child of ours that exited between the two calls is waitable now.
        if running_child {
            if let ChildExit::Exited(info) = self.peek_child_exit()? {
                return Ok(Some(info));
            }
        }
        Ok(Some(ExitInfo {
            pid: self.pid,
            status: reaped_exit_status(self.fd.as_fd()),
            rusage: None,
        }))
    }

    /// What `waitid(WNOWAIT)` says of the process, as a child of ours.
    fn peek_child_exit(&self) -> Result<ChildExit> {
        match peek_exit(self.fd.as_fd()) {
            Ok(Peek::Exited(status, rusage)) => Ok(ChildExit::Exited(ExitInfo {
                pid: self.pid,
                status,
                rusage: Some(rusage),
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
    /// Returns `None` on timeout. For programs without an event loop; Node
    /// users get the same through `PidFd.wait()` without blocking.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Option<ExitInfo>> {
        if self.poll_exit(timeout)? {
            self.exit_info()
        } else {
            Ok(None)
        }
    }

    /// Polls the descriptor for readability, retrying on EINTR with what is
    /// left of the timeout.
    fn poll_exit(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            // A duration too large for a timespec is as good as no limit.
            let spec = left.and_then(|d| Timespec::try_from(d).ok());
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            match poll(&mut fds, spec.as_ref()) {
                Ok(0) => return Ok(false),
                // POLLIN once exited; POLLHUP as well once reaped.
                Ok(_) => return Ok(!fds[0].revents().is_empty()),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(Error::from_rustix(e, "poll", self.pid)),
            }
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
