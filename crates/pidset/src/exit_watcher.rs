//! Many processes watched for exit through one epoll instance, each one
//! reported exactly once, whatever fails: the exit lifecycle, in one place.
//!
//! When is an exit final? For a child this library owns, when it is reaped,
//! which the watcher does itself, in the `waitid` that reads its status and
//! resource usage. For anyone else's process, when its status is known: at
//! once for a child of ours that `child_process` owns (read with `WNOWAIT`,
//! left for its owner to reap), at its parent's reap for others (Linux
//! 6.15+ keeps the status then), which is waited for up to [`REAP_GRACE`],
//! after which the exit is reported without its status.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use crate::epoll::{new_eventfd, Epoll, Interest};
use crate::error::{Error, Result};
use crate::exit_info::ExitInfo;
use crate::owned_child::OwnedChild;
use crate::pidfd::PidFd;
#[cfg(doc)]
use crate::pidfd::REAP_GRACE;
use crate::reap_grace::ReapGrace;

/// What became of a watched process. Either way, it is no longer watched.
#[derive(Debug)]
pub enum Report {
    /// It exited, and this is all that will be known of it: an owned child
    /// has been reaped; somebody else's process has its status, or its
    /// parent did not reap it within [`REAP_GRACE`] (the status is `None`).
    Exited(ExitInfo),
    /// Finding out failed. Watch it again to retry.
    Failed(Error),
}

/// One watched process's report.
#[derive(Debug)]
pub struct Event {
    /// The process, as it was watched.
    pub pidfd: Arc<PidFd>,
    /// What became of it.
    pub report: Report,
}

struct Watched {
    pidfd: Arc<PidFd>,
    /// Set for a child this library owns: reaped when it has exited.
    child: Option<Arc<OwnedChild>>,
    interest: Interest,
    /// Exited, waiting for its parent's reap: what was seen, and the ticket
    /// of its grace.
    exiting: Option<(ExitInfo, u64)>,
}

impl Watched {
    fn new(pidfd: &Arc<PidFd>, child: Option<&Arc<OwnedChild>>) -> Self {
        Self {
            pidfd: Arc::clone(pidfd),
            child: child.map(Arc::clone),
            interest: Interest::Exit,
            exiting: None,
        }
    }
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
    /// The descriptors epoll reported in this batch (reused).
    ready: Vec<RawFd>,
    /// The owned children among them, reported after the others (reused).
    ready_children: Vec<RawFd>,
    /// Reports collected but not delivered (see [`give_back`](Self::give_back)),
    /// handed out first by the next [`collect`](Self::collect).
    undelivered: Vec<Event>,
    /// An eventfd in the epoll set, readable exactly while `undelivered` is
    /// not empty: that keeps the watcher's descriptor readable, so the event
    /// loop driving it calls again.
    doorbell: OwnedFd,
    /// Exited processes waiting for their parent's reap (its timer is in
    /// the epoll set too).
    graces: ReapGrace,
    /// Scratch list of graces that ended.
    ended: Vec<(RawFd, u64)>,
}

impl ExitWatcher {
    /// An empty watcher.
    pub fn new() -> Result<Self> {
        let epoll = Epoll::new()?;
        let doorbell = new_eventfd()?;
        epoll.add_doorbell(doorbell.as_fd())?;
        let graces = ReapGrace::new()?;
        epoll.add_doorbell(graces.as_fd())?;
        Ok(Self {
            epoll,
            watched: HashMap::new(),
            ready: Vec::new(),
            ready_children: Vec::new(),
            undelivered: Vec::new(),
            doorbell,
            graces,
            ended: Vec::new(),
        })
    }

    /// Takes back reports that [`collect`](Self::collect) produced but that
    /// could not be delivered (the binding failed to hand them to
    /// JavaScript): the next `collect` returns them first, and until then the
    /// watcher's descriptor polls readable. Their processes were disarmed by
    /// the report, so without this they would never be reported again.
    pub fn give_back(&mut self, events: &mut Vec<Event>) {
        if events.is_empty() {
            return;
        }
        if self.undelivered.is_empty() {
            // Cannot fail short of the counter's overflow, which one write
            // per batch cannot reach; if it did, the reports would still be
            // returned by the next `collect`, just not announced.
            let _ = rustix::io::write(&self.doorbell, &1u64.to_ne_bytes());
        }
        self.undelivered.append(events);
    }

    /// Watches `pidfd` for its exit; watching it again re-arms it. If this
    /// fails (`ENOSPC`: `fs.epoll.max_user_watches` reached), it is not
    /// watched.
    pub fn watch(&mut self, pidfd: &Arc<PidFd>) -> Result<()> {
        self.insert(Watched::new(pidfd, None))
    }

    /// Watches `child`, a child this library owns, for its exit, and reaps
    /// it when reporting it: one `waitid` reads its status and resource
    /// usage and reaps it. Watching it again re-arms it.
    pub fn watch_child(&mut self, child: &Arc<OwnedChild>) -> Result<()> {
        self.insert(Watched::new(child.pidfd(), Some(child)))
    }

    fn insert(&mut self, watched: Watched) -> Result<()> {
        let pidfd = &watched.pidfd;
        let fd = pidfd.as_raw_fd();
        if let Err(err) = self.epoll.arm(pidfd.as_fd(), Interest::Exit) {
            self.remove(fd);
            return Err(err.with_pid(pidfd.pid()));
        }
        self.watched.insert(fd, watched);
        Ok(())
    }

    /// Stops watching `pidfd`; returns whether it was watched.
    pub fn unwatch(&mut self, pidfd: &PidFd) -> bool {
        match self.watched.get(&pidfd.as_raw_fd()) {
            Some(w) if std::ptr::eq(Arc::as_ptr(&w.pidfd), pidfd) => {
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
            .is_some_and(|w| std::ptr::eq(Arc::as_ptr(&w.pidfd), pidfd))
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
        if !self.undelivered.is_empty() {
            // Silence the doorbell first, then hand the reports out: a report
            // given back again rings it anew.
            let mut count = [0u8; 8];
            let _ = rustix::io::read(&self.doorbell, &mut count);
            events.append(&mut self.undelivered);
            return events.len() - before;
        }
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
        let mut children = std::mem::take(&mut self.ready_children);
        // Owned children last: they are reaped as they are read, and any
        // other handle to the same process in this batch reads first, while
        // the status is still there to read on every kernel.
        for &fd in &ready {
            match self.watched.get(&fd) {
                Some(w) if w.child.is_some() => children.push(fd),
                Some(_) => events.extend(self.report(fd)),
                // Unwatched since the event was queued: nothing to report.
                None => {}
            }
        }
        for fd in children.drain(..) {
            events.extend(self.report(fd));
        }
        self.ready = ready;
        self.ready_children = children;
        self.end_graces(events);
        events.len() - before
    }

    /// Reports, without their status, the processes whose parent did not
    /// reap them within the grace.
    fn end_graces(&mut self, events: &mut Vec<Event>) {
        self.graces.expired(&mut self.ended);
        for (fd, ticket) in std::mem::take(&mut self.ended) {
            let current = self
                .watched
                .get(&fd)
                .is_some_and(|w| matches!(w.exiting, Some((_, t)) if t == ticket));
            if !current {
                continue;
            }
            if let Some(w) = self.remove(fd) {
                if let Some((info, _)) = w.exiting {
                    events.push(Event {
                        pidfd: w.pidfd,
                        report: Report::Exited(ExitInfo {
                            status_at_reap: false,
                            ..info
                        }),
                    });
                }
            }
        }
    }

    /// The report of the process behind ready descriptor `fd`, if any.
    fn report(&mut self, fd: RawFd) -> Option<Event> {
        // Unwatched since the event was queued: nothing to report.
        let w = self.watched.get(&fd)?;
        let pidfd = Arc::clone(&w.pidfd);
        let read = match &w.child {
            Some(child) => reap_or_read(child),
            None => pidfd.exit_info(),
        };
        let waiting_for_reap = w.exiting.is_some();
        let report = match read {
            Err(err) => {
                self.remove(fd);
                Report::Failed(err)
            }
            // Ready without news: readiness that the kernel does not give
            // pidfds, or a reap wake-up before the reap. Watch on.
            Ok(None) => return self.rearm(&pidfd, Interest::Exit),
            // Still not reaped: the grace goes on.
            Ok(Some(info)) if info.status_at_reap && waiting_for_reap => {
                return self.rearm(&pidfd, Interest::Reap)
            }
            // Exited; its status comes at its parent's reap: wait for that,
            // within the grace, and report nothing yet.
            Ok(Some(info)) if info.status_at_reap => {
                match self.epoll.arm(pidfd.as_fd(), Interest::Reap) {
                    Ok(()) => {
                        let ticket = self.graces.start(fd);
                        if let Some(w) = self.watched.get_mut(&fd) {
                            w.interest = Interest::Reap;
                            w.exiting = Some((info, ticket));
                        }
                        return None;
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
    fn rearm(&mut self, pidfd: &Arc<PidFd>, interest: Interest) -> Option<Event> {
        let err = self.epoll.arm(pidfd.as_fd(), interest).err()?;
        self.remove(pidfd.as_raw_fd());
        Some(Event {
            pidfd: Arc::clone(pidfd),
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

/// An owned child's exit, reaping it; if something else in this process
/// reaped it first (a `waitpid(-1)`), what the kernel still says of it.
fn reap_or_read(child: &OwnedChild) -> Result<Option<ExitInfo>> {
    match child.reap() {
        Err(err) if err.errno() == libc::ECHILD => child.exit_info(),
        other => other,
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
            .field("undelivered", &self.undelivered.len())
            .finish()
    }
}
