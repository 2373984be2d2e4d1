//! Many processes watched for exit through one epoll instance, each one
//! reported exactly once, whatever fails.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use crate::epoll::{Epoll, Interest};
use crate::error::{Error, Result};
use crate::exit_info::ExitInfo;
use crate::pidfd::PidFd;

/// What became of a watched process.
#[derive(Debug)]
pub enum Report {
    /// It exited, and this is all that will be known of it. It is no longer
    /// watched.
    Exited(ExitInfo),
    /// It exited, and its status comes when its parent reaps it
    /// ([`ExitInfo::status_at_reap`]). It stays watched, for the reap, which
    /// is reported as [`Report::Exited`]; unwatch it to stop waiting.
    Exiting(ExitInfo),
    /// Finding out failed. It is no longer watched; watch it again to retry.
    Failed(Error),
}

/// One watched process's report.
#[derive(Debug)]
pub struct Event {
    /// The process, as it was watched.
    pub pidfd: Rc<PidFd>,
    /// What became of it.
    pub report: Report,
}

struct Watched {
    pidfd: Rc<PidFd>,
    interest: Interest,
}

/// Pidfds watched for exit through one epoll instance, keyed by descriptor:
/// watching, unwatching and reporting are O(1) per process.
///
/// It shares ownership of each watched [`PidFd`], so a descriptor can never
/// be closed (and its number reused) while the epoll instance still holds it.
/// Every ready process gets exactly one [`Event`]: a failure while reading
/// one process's exit is reported for that process and does not cost the
/// others theirs, and a failure of `epoll_wait` itself is reported to every
/// watched process. Nothing is lost silently.
///
/// Its descriptor ([`AsFd`]) polls readable while a report is ready, which is
/// how an event loop (Node's, in the binding) drives it without blocking.
pub struct ExitWatcher {
    epoll: Epoll,
    watched: HashMap<RawFd, Watched>,
    ready: Vec<RawFd>,
}

impl ExitWatcher {
    /// An empty watcher.
    pub fn new() -> Result<Self> {
        Ok(Self {
            epoll: Epoll::new()?,
            watched: HashMap::new(),
            ready: Vec::new(),
        })
    }

    /// Watches `pidfd` for its exit; watching it again re-arms it. If this
    /// fails (`ENOSPC`: `fs.epoll.max_user_watches` reached), it is not
    /// watched.
    pub fn watch(&mut self, pidfd: &Rc<PidFd>) -> Result<()> {
        let fd = pidfd.as_raw_fd();
        if let Err(err) = self.epoll.arm(pidfd.as_fd(), Interest::Exit) {
            self.remove(fd);
            return Err(err.with_pid(pidfd.pid()));
        }
        self.watched.insert(
            fd,
            Watched {
                pidfd: Rc::clone(pidfd),
                interest: Interest::Exit,
            },
        );
        Ok(())
    }

    /// Stops watching `pidfd`; returns whether it was watched.
    pub fn unwatch(&mut self, pidfd: &PidFd) -> bool {
        match self.watched.get(&pidfd.as_raw_fd()) {
            Some(w) if std::ptr::eq(Rc::as_ptr(&w.pidfd), pidfd) => {
                self.remove(pidfd.as_raw_fd());
                true
            }
            _ => false,
        }
    }

    /// Whether `pidfd` is watched.
    pub fn is_watched(&self, pidfd: &PidFd) -> bool {
        self.watched
            .get(&pidfd.as_raw_fd())
            .is_some_and(|w| std::ptr::eq(Rc::as_ptr(&w.pidfd), pidfd))
    }

    /// How many processes are watched.
    pub fn len(&self) -> usize {
        self.watched.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.watched.is_empty()
    }

    /// Waits up to `timeout` (`None`: without limit; zero: not at all) for
    /// watched processes to exit, appends one [`Event`] per ready process to
    /// `events` and returns how many it appended (0 on timeout or EINTR).
    /// One `epoll_wait` per call, of at most 256 processes: call again for
    /// more.
    pub fn collect(&mut self, timeout: Option<Duration>, events: &mut Vec<Event>) -> usize {
        let before = events.len();
        self.ready.clear();
        if let Err(err) = self.epoll.ready(&mut self.ready, timeout) {
            // Which processes exited is unknown: tell every one, so that
            // nobody waits for a report that cannot come.
            let fds: Vec<RawFd> = self.watched.keys().copied().collect();
            for fd in fds {
                if let Some(w) = self.remove(fd) {
                    let err = err.clone().with_pid(w.pidfd.pid());
                    events.push(Event {
                        pidfd: w.pidfd,
                        report: Report::Failed(err),
                    });
                }
            }
            return events.len() - before;
        }
        let ready = std::mem::take(&mut self.ready);
        for &fd in &ready {
            if let Some(event) = self.report(fd) {
                events.push(event);
            }
        }
        self.ready = ready;
        events.len() - before
    }

    /// The report of the process behind ready descriptor `fd`, if any.
    fn report(&mut self, fd: RawFd) -> Option<Event> {
        // Unwatched since the event was queued: nothing to report.
        let w = self.watched.get(&fd)?;
        let pidfd = Rc::clone(&w.pidfd);
        let waiting_for_reap = w.interest == Interest::Reap;
        let report = match pidfd.exit_info() {
            Err(err) => {
                self.remove(fd);
                Report::Failed(err)
            }
            // Ready without news: readiness that the kernel does not give
            // pidfds, or a reap wake-up before the reap. Watch on.
            Ok(None) => return self.rearm(&pidfd, Interest::Exit),
            Ok(Some(info)) if info.status_at_reap && waiting_for_reap => {
                return self.rearm(&pidfd, Interest::Reap)
            }
            Ok(Some(info)) if info.status_at_reap => {
                match self.epoll.arm(pidfd.as_fd(), Interest::Reap) {
                    Ok(()) => {
                        if let Some(w) = self.watched.get_mut(&fd) {
                            w.interest = Interest::Reap;
                        }
                        Report::Exiting(info)
                    }
                    // It has exited; only the status will not be known.
                    Err(_) => {
                        self.remove(fd);
                        Report::Exited(ExitInfo {
                            status_at_reap: false,
                            ..info
                        })
                    }
                }
            }
            Ok(Some(info)) => {
                self.forget(fd);
                Report::Exited(info)
            }
        };
        Some(Event { pidfd, report })
    }

    /// Arms `pidfd` again for `interest`; a failure to do so is its report.
    fn rearm(&mut self, pidfd: &Rc<PidFd>, interest: Interest) -> Option<Event> {
        let err = self.epoll.arm(pidfd.as_fd(), interest).err()?;
        self.remove(pidfd.as_raw_fd());
        Some(Event {
            pidfd: Rc::clone(pidfd),
            report: Report::Failed(err.with_pid(pidfd.pid())),
        })
    }

    /// Stops tracking `fd` after its one-shot registration fired, without
    /// the `epoll_ctl` that would delete it: a fired one-shot registration
    /// reports nothing more, closing the pidfd deletes it, and watching it
    /// again modifies it (`arm` meets EEXIST). That saves a system call on
    /// the path of every exit.
    fn forget(&mut self, fd: RawFd) {
        self.watched.remove(&fd);
    }

    fn remove(&mut self, fd: RawFd) -> Option<Watched> {
        let w = self.watched.remove(&fd)?;
        // Cannot fail for a descriptor we registered and still hold open;
        // were it to, dropping our share of the descriptor (and so, at
        // worst, its last reference) takes it out of the set as well.
        let _ = self.epoll.unwatch(w.pidfd.as_fd());
        Some(w)
    }
}

impl AsFd for ExitWatcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl std::fmt::Debug for ExitWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExitWatcher")
            .field("epoll", &self.epoll)
            .field("watched", &self.watched.len())
            .finish()
    }
}
