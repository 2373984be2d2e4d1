use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::{epoll, Timespec};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::sys::injected;

/// What a watched pidfd is reported for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// The exit: the process became a zombie (`EPOLLIN`).
    Exit,
    /// The reap: its parent collected it (`EPOLLHUP`, Linux 6.9+). Armed with
    /// no input interest, so the zombie's standing readability is not
    /// reported again; epoll always reports a hang-up.
    Reap,
}

/// One epoll instance watching pidfds for exit.
///
/// Each watched descriptor is armed with `EPOLLONESHOT`: it is reported at
/// most once per [`watch`](Self::watch). An exited process's pidfd stays
/// readable for ever, so under plain level triggering it would be reported on
/// every wait until removed; one-shot arming means a reported exit costs no
/// further wake-ups, even if the caller deals with it later. The instance's
/// own descriptor ([`as_fd`](AsFd::as_fd)) is readable whenever an armed
/// pidfd is, which is how an event loop such as libuv's learns of exits.
pub struct Epoll {
    fd: OwnedFd,
    events: Vec<epoll::Event>,
}

/// Events fetched per `epoll_wait`; more are fetched by calling again.
const BATCH: usize = 256;

/// A new eventfd (non-blocking, close-on-exec) to ring an epoll set or a
/// thread's poll with: the watcher's [`Epoll::add_doorbell`], the
/// collector's stop signal.
pub(crate) fn new_eventfd() -> Result<OwnedFd> {
    if let Some(errno) = injected("eventfd") {
        return Err(Error::new(errno, "eventfd", None));
    }
    rustix::event::eventfd(
        0,
        rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
    )
    .map_err(|e| Error::new(e.raw_os_error(), "eventfd", None))
}

impl Epoll {
    /// Creates an empty, close-on-exec epoll instance.
    pub fn new() -> Result<Self> {
        if let Some(errno) = injected("epoll_create1") {
            return Err(Error::new(errno, "epoll_create1", None));
        }
        let fd = epoll::create(epoll::CreateFlags::CLOEXEC)
            .map_err(|e| Error::new(e.raw_os_error(), "epoll_create1", None))?;
        Ok(Self {
            fd,
            events: Vec::with_capacity(BATCH),
        })
    }

    /// Arms `pidfd` to be reported once when its process exits; re-arms it if
    /// it was reported before. Watching an armed descriptor again is harmless.
    ///
    /// The descriptor must be unwatched before it is closed: the kernel drops
    /// a closed descriptor from the set by itself only when no duplicate of
    /// it remains open elsewhere.
    pub fn watch(&self, pidfd: BorrowedFd<'_>) -> Result<()> {
        self.arm(pidfd, Interest::Exit)
    }

    /// Arms `pidfd` to be reported once for `interest`, replacing whatever it
    /// was armed for.
    pub fn arm(&self, pidfd: BorrowedFd<'_>, interest: Interest) -> Result<()> {
        if let Some(errno) = injected("epoll_ctl") {
            return Err(Error::new(errno, "epoll_ctl", None));
        }
        let data = epoll::EventData::new_u64(raw_fd_token(pidfd.as_raw_fd()));
        let flags = match interest {
            Interest::Exit => epoll::EventFlags::IN | epoll::EventFlags::ONESHOT,
            Interest::Reap => epoll::EventFlags::ONESHOT,
        };
        match epoll::add(&self.fd, pidfd, data, flags) {
            Err(Errno::EXIST) => epoll::modify(&self.fd, pidfd, data, flags),
            other => other,
        }
        .map_err(|e| Error::new(e.raw_os_error(), "epoll_ctl", None))
    }

    /// Adds `fd` (an eventfd, say) level-triggered for input, so that the
    /// instance polls readable for as long as `fd` does. Its readiness is
    /// reported by [`ready`](Self::ready) as descriptor -1, which no watched
    /// pidfd can be.
    pub fn add_doorbell(&self, fd: BorrowedFd<'_>) -> Result<()> {
        let data = epoll::EventData::new_u64(DOORBELL_TOKEN);
        epoll::add(&self.fd, fd, data, epoll::EventFlags::IN)
            .map_err(|e| Error::new(e.raw_os_error(), "epoll_ctl", None))
    }

    /// Stops watching `pidfd`. Unwatching one that is not watched is harmless.
    pub fn unwatch(&self, pidfd: BorrowedFd<'_>) -> Result<()> {
        match epoll::delete(&self.fd, pidfd) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(Error::new(e.raw_os_error(), "epoll_ctl", None)),
        }
    }

    /// Appends to `ready` the raw descriptors of watched processes that have
    /// exited, each disarmed by the report, and returns how many were added.
    /// Waits up to `timeout` (`None`: without limit) for the first one;
    /// `Some(Duration::ZERO)` never blocks. An interrupted wait (EINTR)
    /// returns 0 rather than retrying, so the caller can re-check its state.
    pub fn ready(&mut self, ready: &mut Vec<RawFd>, timeout: Option<Duration>) -> Result<usize> {
        let spec = timeout.and_then(|d| Timespec::try_from(d).ok());
        self.events.clear();
        if let Some(errno) = injected("epoll_wait") {
            return Err(Error::new(errno, "epoll_wait", None));
        }
        match epoll::wait(&self.fd, spare_capacity(&mut self.events), spec.as_ref()) {
            Ok(_) => {}
            Err(Errno::INTR) => return Ok(0),
            Err(e) => return Err(Error::new(e.raw_os_error(), "epoll_wait", None)),
        }
        ready.extend(self.events.iter().map(|ev| token_raw_fd(ev.data.u64())));
        Ok(self.events.len())
    }
}

// SAFETY: rustix's event type may carry a pointer (its data is a union of
// u64 and pointer), which makes it !Send. Every event here carries a u64
// token (raw_fd_token) written by the kernel from what `arm` registered, no
// pointer is ever stored or read, and the buffer is scratch space refilled
// by each `ready`: moving an Epoll to another thread moves plain data.
unsafe impl Send for Epoll {}

impl std::fmt::Debug for Epoll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Epoll").field("fd", &self.fd).finish()
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The token of the doorbell: above every descriptor, so it reads back as -1.
const DOORBELL_TOKEN: u64 = u64::MAX;

// A descriptor is never negative, so it survives the round trip through the
// event's u64 unchanged.
fn raw_fd_token(fd: RawFd) -> u64 {
    u64::from(fd.unsigned_abs())
}

fn token_raw_fd(token: u64) -> RawFd {
    RawFd::try_from(token).unwrap_or(-1)
}
