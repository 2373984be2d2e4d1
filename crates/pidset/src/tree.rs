//! Process trees without races: the descendants of a process, each opened
//! as a [`PidFd`] and verified to be the process that was listed, and
//! killing a whole tree through those handles.
//!
//! `/proc` lists children by PID, and a PID can be reused the moment its
//! process is reaped, so a listed PID is only a lead. A child is taken as
//! the parent's once its pidfd is open, its parent PID (read through that
//! pidfd) is the parent's, and the parent's own pidfd shows it still
//! running after that read: while the parent runs, its PID is its own, so
//! the child named it. Tools that parse `ps` and signal bare PIDs
//! (tree-kill, pidtree, ps-tree) have no such check.
//!
//! Killing a tree must also win against the tree: a process that forks
//! after its children were listed, or a parent that exits first and so
//! hands its children to init, lets them escape. So each process is
//! stopped (`SIGSTOP`) before its children are listed; a stopped process
//! can neither fork nor exit by itself. Once a pass over every stopped
//! process finds nothing new, the whole tree is signalled, then continued,
//! and the tree is walked again, in case a signal handler forked.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::pidfd::PidFd;
use crate::proc_tree;

/// How long a process is given to take a stop signal (every thread must
/// stop) before the walk goes on without it: one blocked in the kernel
/// (`D`, a vfork parent) stops only when it leaves the kernel.
const STOP_PATIENCE: Duration = Duration::from_millis(500);

/// How many times a tree is walked again after it was signalled, at most:
/// a tree whose signal handlers fork on every signal would otherwise keep
/// the walk going for ever.
const MAX_ROUNDS: usize = 16;

/// A handle for every descendant of `root` at this moment, parents before
/// their children. Nothing is stopped, so a process forked during the walk
/// may be missing; every handle returned is verified (see the module).
/// Empty once `root` has exited: its children were handed to another
/// parent then, and are no longer its descendants.
pub fn descendants(root: &PidFd) -> Result<Vec<PidFd>> {
    let mut found: Vec<PidFd> = Vec::new();
    let mut children = verified_children(root, &mut Vec::new(), |_| false)?;
    while !children.is_empty() {
        let first_new = found.len();
        found.append(&mut children);
        for parent in &found[first_new..] {
            children.append(&mut verified_children(parent, &mut Vec::new(), |_| false)?);
        }
    }
    Ok(found)
}

/// What [`kill_tree`] did.
#[derive(Debug)]
pub struct KilledTree {
    /// A handle for every process that was signalled (the root first when
    /// it was included), to wait on.
    pub signalled: Vec<PidFd>,
    /// The first error met signalling (`EPERM` for a process that may not
    /// be signalled); every other process was still signalled, and every
    /// process stopped for the walk continued.
    pub error: Option<crate::error::Error>,
}

/// Sends `signal` to every descendant of `root`, and to `root` with
/// `include_root`, without ever reaching a process outside the tree and
/// without letting one escape by forking or by its parent exiting first
/// (see the module). A root that leads its own session (`detached`) also
/// takes the members of that session that are no longer below it: only
/// its descendants can be in it. This process is never stopped or
/// signalled, even when it is in the tree.
///
/// Fails (having signalled nothing) only if a handle cannot be opened
/// (`EMFILE`) or the root cannot be polled.
pub fn kill_tree(root: &PidFd, signal: i32, include_root: bool) -> Result<KilledTree> {
    let mut tree = Tree::new(root.try_clone()?);
    let walked = tree.kill(signal, include_root);
    if let Err(err) = walked {
        // Nothing may stay stopped because the walk could not go on.
        tree.resume(libc::SIGCONT);
        return Err(err);
    }
    let skip = usize::from(!include_root);
    let signalled = tree
        .members
        .into_iter()
        .skip(skip)
        .filter(|member| !member.is_self)
        .map(|member| member.pidfd)
        .collect();
    Ok(KilledTree {
        signalled,
        error: tree.error,
    })
}

/// One process of a tree being killed.
struct Member {
    pidfd: PidFd,
    /// Whether we stopped it (and so must continue it).
    stopped: bool,
    /// This very process, which is never stopped or signalled.
    is_self: bool,
}

/// The processes of a tree found so far, the root first.
struct Tree {
    members: Vec<Member>,
    /// Each member's index by PID, to tell a new process from a known one.
    by_pid: HashMap<i32, usize>,
    /// The root's PID if it leads its own session (see [`kill_tree`]).
    session: Option<i32>,
    /// The first error met signalling.
    error: Option<crate::error::Error>,
}

impl Tree {
    fn new(root: PidFd) -> Self {
        let pid = root.pid();
        // Read by PID, so believed only if the root still runs after.
        let session = proc_tree::stat(pid)
            .filter(|fields| fields.session == pid && !root.has_exited().unwrap_or(true))
            .map(|fields| fields.session);
        let mut tree = Self {
            members: Vec::new(),
            by_pid: HashMap::new(),
            session,
            error: None,
        };
        tree.add(root);
        tree
    }

    /// Walks, signals and walks again (see [`kill_tree`]), until a walk
    /// after a signal finds nothing new. Signalling errors are kept in
    /// `error`; an error walking ends it.
    fn kill(&mut self, signal: i32, include_root: bool) -> Result<()> {
        let mut signalled_upto = 0;
        for _ in 0..MAX_ROUNDS {
            for _ in 0..MAX_ROUNDS {
                if !self.freeze_pass()? {
                    break;
                }
            }
            let first = signalled_upto;
            signalled_upto = self.members.len();
            for index in first..signalled_upto {
                let member = &self.members[index];
                if (index == 0 && !include_root) || member.is_self {
                    continue;
                }
                if let Err(err) = member.pidfd.send_signal(signal) {
                    self.error.get_or_insert(err);
                }
            }
            // SIGKILL ends a stopped process as it is: nothing to continue,
            // and no handler can fork.
            if signal == libc::SIGKILL {
                return Ok(());
            }
            // Nothing continued: nothing could have forked since the walk.
            if !self.resume(signal) {
                return Ok(());
            }
            // A handler may have forked: walk again; anything new is
            // signalled in the next round.
            self.freeze_pass()?;
            if self.members.len() == signalled_upto {
                self.resume(signal);
                return Ok(());
            }
        }
        self.resume(signal);
        Ok(())
    }

    fn add(&mut self, pidfd: PidFd) {
        let is_self = u32::try_from(pidfd.pid()) == Ok(std::process::id());
        self.by_pid.insert(pidfd.pid(), self.members.len());
        self.members.push(Member {
            pidfd,
            stopped: false,
            is_self,
        });
    }

    /// Whether `pid` is a member that is still running (a member that has
    /// exited may have had its PID reused by a new process).
    fn knows(&self, pid: i32) -> bool {
        self.by_pid
            .get(&pid)
            .is_some_and(|&index| !self.members[index].pidfd.has_exited().unwrap_or(true))
    }

    /// Stops every member not stopped yet and adds the children of each,
    /// stopped in turn; then the root's session. A generation at a time:
    /// all of it is sent SIGSTOP, then each is waited for and its children
    /// listed, so that the stops of siblings take effect together. Once a
    /// process has stopped its children are all listed (a fork in progress
    /// completes before the stop), so the walk is complete, unless a
    /// process did not stop in time or the session sweep found processes
    /// whose children are not listed yet: then it returns true, for another
    /// pass.
    fn freeze_pass(&mut self) -> Result<bool> {
        let mut again = false;
        let mut start = 0;
        while start < self.members.len() {
            let end = self.members.len();
            for index in start..end {
                self.send_stop(index);
            }
            for index in start..end {
                again |= !self.wait_stopped(index);
                let mut children = {
                    let mut listed = Vec::new();
                    verified_children(&self.members[index].pidfd, &mut listed, |pid| {
                        self.knows(pid)
                    })?
                };
                for child in children.drain(..) {
                    self.add(child);
                }
            }
            start = end;
        }
        again |= self.sweep_session()?;
        Ok(again)
    }

    /// Sends SIGSTOP to member `index`, unless it is stopped already or is
    /// this process.
    fn send_stop(&mut self, index: usize) {
        let member = &mut self.members[index];
        if member.stopped || member.is_self {
            return;
        }
        // Sent through the pidfd: false (nothing sent) once it has exited.
        member.stopped = member.pidfd.send_signal(libc::SIGSTOP).unwrap_or(false);
    }

    /// Waits, briefly, until none of member `index`'s threads runs (a stop
    /// signal takes effect asynchronously, thread by thread). Returns
    /// whether it is stopped (or gone, or was never stopped by us).
    fn wait_stopped(&self, index: usize) -> bool {
        let member = &self.members[index];
        if !member.stopped {
            return true;
        }
        let pid = member.pidfd.pid();
        let deadline = Instant::now() + STOP_PATIENCE;
        loop {
            if proc_tree::is_stopped(pid) || member.pidfd.has_exited().unwrap_or(true) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    /// Continues every member we stopped, unless `signal` was a stop
    /// itself. Returns whether any was continued.
    fn resume(&mut self, signal: i32) -> bool {
        if signal == libc::SIGSTOP {
            return false;
        }
        let mut any = false;
        for member in self.members.iter_mut().filter(|m| m.stopped) {
            member.stopped = false;
            any |= member.pidfd.send_signal(libc::SIGCONT).unwrap_or(false);
        }
        any
    }

    /// Adds the members of the root's session that the walk did not reach
    /// (orphans of a member that exited), each verified: opened, its
    /// session read through `/proc` after that, then a member of the
    /// session (the root first) seen still running, so the session's ID
    /// was not reused. Returns whether it added any.
    fn sweep_session(&mut self) -> Result<bool> {
        let Some(session) = self.session else {
            return Ok(false);
        };
        let mut added = false;
        for pid in proc_tree::processes_where(|fields| fields.session == session) {
            if self.knows(pid) {
                continue;
            }
            let Some(pidfd) = open_listed(pid)? else {
                continue;
            };
            let still_in = proc_tree::stat(pid).is_some_and(|f| f.session == session);
            if still_in && !pidfd.has_exited()? && self.session_alive(session) {
                self.add(pidfd);
                added = true;
            }
        }
        Ok(added)
    }

    /// Whether a known member of `session` still runs, which keeps the
    /// session's ID from being reused.
    fn session_alive(&self, session: i32) -> bool {
        self.members.iter().any(|member| {
            !member.pidfd.has_exited().unwrap_or(true)
                && proc_tree::stat(member.pidfd.pid()).is_some_and(|f| f.session == session)
        })
    }
}

/// `parent`'s children, each opened and verified (see the module), leaving
/// out those `known` says are known already. `scratch` is reused for the
/// listing.
fn verified_children(
    parent: &PidFd,
    scratch: &mut Vec<i32>,
    known: impl Fn(i32) -> bool,
) -> Result<Vec<PidFd>> {
    scratch.clear();
    scratch.extend(proc_tree::children(parent.pid()));
    scratch.retain(|&pid| !known(pid));
    verified_children_of(parent, scratch)
}

/// The processes of `listed` (PIDs read as `parent`'s children) that still
/// are: each opened, its parent PID read through its own pidfd, then the
/// parent seen running, so that the PID it names is the parent's. A PID
/// reused since the listing names a process that fails the check.
fn verified_children_of(parent: &PidFd, listed: &[i32]) -> Result<Vec<PidFd>> {
    let mut children = Vec::new();
    for &pid in listed {
        let Some(child) = open_listed(pid)? else {
            continue;
        };
        let Ok(info) = child.info() else {
            continue;
        };
        if info.ppid == parent.pid() && !parent.has_exited()? {
            children.push(child);
        }
    }
    Ok(children)
}

/// A pidfd for a PID just listed, or `None` if it is gone already.
fn open_listed(pid: i32) -> Result<Option<PidFd>> {
    match PidFd::open(pid) {
        Ok(pidfd) => Ok(Some(pidfd)),
        // Gone (ESRCH), or a thread's ID rather than a process's.
        Err(err) if matches!(err.errno(), libc::ESRCH | libc::EINVAL | libc::ENOENT) => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    /// A `sh` that starts a `sleep` and waits, and the sleep's PID.
    fn parent_with_child() -> (std::process::Child, i32) {
        let mut sh = Command::new("sh")
            .args(["-c", "sleep 100 & echo $!; wait"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(sh.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        (sh, line.trim().parse().expect("pid"))
    }

    fn end(mut child: std::process::Child, pid: i32) {
        if let Ok(pidfd) = PidFd::open(pid) {
            let _ = pidfd.send_signal(libc::SIGKILL);
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn a_listed_pid_that_is_not_the_parents_child_is_refused() {
        // What a reused PID looks like to the walk: /proc listed it under
        // the parent, and by the time it is opened it names a process
        // that is not the parent's child (here, the parent's sibling).
        let (a, a_child) = parent_with_child();
        let (b, b_child) = parent_with_child();
        let parent = PidFd::open(a.id() as i32).expect("open");
        let listed = vec![b_child];
        let found = verified_children_of(&parent, &listed).expect("verify");
        assert!(found.is_empty(), "a stranger was taken for a child");
        let own = verified_children_of(&parent, &[a_child]).expect("verify");
        assert_eq!(
            own.iter().map(PidFd::pid).collect::<Vec<_>>(),
            vec![a_child]
        );
        end(a, a_child);
        end(b, b_child);
    }

    #[test]
    fn a_child_handed_to_another_parent_is_not_taken() {
        // The parent exited after the listing: its child now has another
        // parent. (A newcomer with the parent's PID, whose children pass
        // the parent-PID check, is refused by the parent's pidfd showing it
        // exited: __test__/fixtures/tree-reuse.cjs forces that reuse.)
        let (mut a, a_child) = parent_with_child();
        let parent = PidFd::open(a.id() as i32).expect("open");
        a.kill().expect("kill");
        a.wait().expect("reap");
        let found = verified_children_of(&parent, &[a_child]).expect("verify");
        assert!(found.is_empty());
        if let Ok(orphan) = PidFd::open(a_child) {
            let _ = orphan.send_signal(libc::SIGKILL);
        }
    }
}
