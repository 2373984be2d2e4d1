use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::epoll::Epoll;
use crate::error::Result;
use crate::exit_info::ExitInfo;
use crate::pidfd::PidFd;

/// A set of processes watched for exit through one epoll instance, for
/// programs that block a thread while they wait. It owns its members and
/// closes each one when it is reported or removed.
#[derive(Debug)]
pub struct PidSet {
    epoll: Epoll,
    members: HashMap<RawFd, PidFd>,
    /// Members seen to exit but not reported yet, in the order they exited.
    exited: VecDeque<(RawFd, ExitInfo)>,
    ready: Vec<RawFd>,
}

impl PidSet {
    /// An empty set.
    pub fn new() -> Result<Self> {
        Ok(Self {
            epoll: Epoll::new()?,
            members: HashMap::new(),
            exited: VecDeque::new(),
            ready: Vec::new(),
        })
    }

    /// Opens `pid` and adds it; does nothing if the set already has it.
    pub fn open(&mut self, pid: i32) -> Result<()> {
        if self.contains(pid) {
            return Ok(());
        }
        self.insert(PidFd::open(pid)?)
    }

    /// Adds a handle. If the set already has one for the same PID, the new
    /// handle is dropped (closed) and the old one kept.
    pub fn insert(&mut self, pidfd: PidFd) -> Result<()> {
        if self.contains(pidfd.pid()) {
            return Ok(());
        }
        self.epoll.watch(pidfd.as_fd())?;
        self.members.insert(pidfd.as_raw_fd(), pidfd);
        Ok(())
    }

    /// Removes the member with this PID and hands its handle back.
    pub fn remove(&mut self, pid: i32) -> Option<PidFd> {
        let fd = self.members.values().find(|m| m.pid() == pid)?.as_raw_fd();
        self.exited.retain(|(exited, _)| *exited != fd);
        let pidfd = self.members.remove(&fd)?;
        // Removal cannot fail for a descriptor we registered; were it to,
        // closing the descriptor drops the registration anyway.
        let _ = self.epoll.unwatch(pidfd.as_fd());
        Some(pidfd)
    }

    /// Whether a member has this PID.
    pub fn contains(&self, pid: i32) -> bool {
        self.members.values().any(|m| m.pid() == pid)
    }

    /// How many members it has.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether it has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &PidFd> {
        self.members.values()
    }

    /// Blocks until a member exits, removes it and returns its exit.
    /// `None` if `timeout` elapsed first or the set is empty.
    pub fn wait_any(&mut self, timeout: Option<Duration>) -> Result<Option<ExitInfo>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        while self.exited.is_empty() {
            if self.members.is_empty() || !self.collect(deadline)? {
                return Ok(None);
            }
        }
        Ok(self.take_first())
    }

    /// Blocks until every member has exited, removes them all and returns
    /// their exits in the order they happened. `None` if `timeout` elapsed
    /// first; members seen to exit by then stay in the set, to be reported
    /// by a later wait.
    pub fn wait_all(&mut self, timeout: Option<Duration>) -> Result<Option<Vec<ExitInfo>>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        while self.exited.len() < self.members.len() {
            if !self.collect(deadline)? {
                return Ok(None);
            }
        }
        let mut all = Vec::with_capacity(self.exited.len());
        while let Some(info) = self.take_first() {
            all.push(info);
        }
        Ok(Some(all))
    }

    fn take_first(&mut self) -> Option<ExitInfo> {
        let (fd, info) = self.exited.pop_front()?;
        if let Some(pidfd) = self.members.remove(&fd) {
            let _ = self.epoll.unwatch(pidfd.as_fd());
        }
        Some(info)
    }

    /// Waits for exits until `deadline` and queues them; false on timeout.
    fn collect(&mut self, deadline: Option<Instant>) -> Result<bool> {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        self.ready.clear();
        if self.epoll.ready(&mut self.ready, timeout)? == 0 {
            // Interrupted (EINTR) or timed out: go on only if time is left.
            return Ok(deadline.is_none_or(|d| Instant::now() < d));
        }
        for fd in self.ready.drain(..) {
            let Some(pidfd) = self.members.get(&fd) else {
                continue;
            };
            match pidfd.exit_info()? {
                Some(info) => self.exited.push_back((fd, info)),
                // Readable yet not exited: never expected of a pidfd, but if
                // it happens, re-arm rather than lose the member.
                None => self.epoll.watch(pidfd.as_fd())?,
            }
        }
        Ok(true)
    }
}
