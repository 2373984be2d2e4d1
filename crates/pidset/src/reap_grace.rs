//! How long somebody else's exited process is waited for: its exit status
//! comes when its parent reaps it (Linux 6.15+ keeps it then), which a
//! well-behaved parent does at once; one that never does must not hold the
//! waiter for ever. So each is given [`REAP_GRACE`], after which its exit
//! is reported without its status.
//!
//! Why a timerfd: the grace must end while the watcher's owner sleeps in
//! an event loop that only wakes for descriptors. The timer sits in the
//! watcher's epoll set and polls readable when the first grace ends.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};

use crate::error::{Error, Result};
use crate::pidfd::REAP_GRACE;
use crate::sys::injected;

/// The graces running, first to end first.
pub(crate) struct ReapGrace {
    timer: OwnedFd,
    /// Every grace is as long as every other: they end in the order they
    /// started, so a queue keeps them sorted. Each entry names its watch by
    /// descriptor and ticket (see [`start`](Self::start)).
    running: VecDeque<(Instant, RawFd, u64)>,
    next_ticket: u64,
    /// Whether the timer may be set or have fired unread.
    armed: bool,
}

impl ReapGrace {
    /// No grace running; one timerfd.
    pub(crate) fn new() -> Result<Self> {
        if let Some(errno) = injected("timerfd_create") {
            return Err(Error::new(errno, "timerfd_create", None));
        }
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
        )
        .map_err(|e| Error::new(e.raw_os_error(), "timerfd_create", None))?;
        Ok(Self {
            timer,
            running: VecDeque::new(),
            next_ticket: 0,
            armed: false,
        })
    }

    /// Starts the grace of the process watched as `fd`; returns its ticket,
    /// which [`expired`](Self::expired) hands back when it ends. A watch
    /// that ends sooner (the reap came) just forgets its ticket.
    pub(crate) fn start(&mut self, fd: RawFd) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let now = Instant::now();
        if self.running.is_empty() {
            self.set_timer(REAP_GRACE);
        }
        self.running.push_back((now + REAP_GRACE, fd, ticket));
        ticket
    }

    /// Appends to `out` the watches whose grace has ended, and sets the
    /// timer for the next one.
    pub(crate) fn expired(&mut self, out: &mut Vec<(RawFd, u64)>) {
        if !self.armed {
            return;
        }
        // Level-triggered in the epoll set: read what fired, or the owner's
        // event loop would be woken again and again.
        let mut ticks = [0u8; 8];
        let _ = rustix::io::read(&self.timer, &mut ticks);
        let now = Instant::now();
        while let Some(&(end, fd, ticket)) = self.running.front() {
            if end > now {
                break;
            }
            self.running.pop_front();
            out.push((fd, ticket));
        }
        match self.running.front() {
            Some(&(end, _, _)) => self.set_timer(end - now),
            None => self.set_timer(Duration::ZERO),
        }
    }

    /// Fires the timer once `after` (zero: never).
    fn set_timer(&mut self, after: Duration) {
        // A zero value disarms a timerfd: a grace that ends now fires at once.
        let after = if after.is_zero() && !self.running.is_empty() {
            Duration::from_nanos(1)
        } else {
            after
        };
        let value = Itimerspec {
            it_interval: Timespec::default(),
            it_value: Timespec {
                tv_sec: i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(after.subsec_nanos()),
            },
        };
        // Cannot fail with a valid timerfd and value; were it to, the grace
        // would end at the next report instead (collect checks every time).
        let _ = timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &value);
        self.armed = !after.is_zero();
    }
}

impl AsFd for ReapGrace {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.timer.as_fd()
    }
}
