//! A child this library started, and the one handle that may reap it.
//!
//! Reaping takes a process's exit from everyone else: done to a child that
//! other code spawned (Node's `child_process`), it would leave that code
//! waiting for an exit it can no longer collect. So no [`PidFd`] can reap;
//! only an `OwnedChild`, which only [`crate::spawn`] makes, can.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::Result;
use crate::exit_info::ExitInfo;
use crate::orphans;
use crate::pidfd::PidFd;

/// A child of this process that this library started and is to reap. It
/// reads as the [`PidFd`] it is (`Deref`); reaping it is its own.
#[derive(Debug)]
pub struct OwnedChild {
    pidfd: Arc<PidFd>,
    reaped: AtomicBool,
}

impl OwnedChild {
    /// Takes charge of `pidfd`, a child just started by [`crate::spawn`].
    pub(crate) fn new(pidfd: PidFd) -> Self {
        Self {
            pidfd: Arc::new(pidfd),
            reaped: AtomicBool::new(false),
        }
    }

    /// Its pidfd, shared: for watching it and for handles that read it.
    pub fn pidfd(&self) -> &Arc<PidFd> {
        &self.pidfd
    }

    /// Reaps the child once it has exited and returns its exit (status and
    /// resource usage, in one `waitid`); `None` while it runs. Fails with
    /// ECHILD once it has been reaped (by this, or by a `waitpid(-1)`
    /// elsewhere in the process).
    pub fn reap(&self) -> Result<Option<ExitInfo>> {
        let reaped = self.pidfd.reap();
        if matches!(reaped, Ok(Some(_)))
            || reaped.as_ref().is_err_and(|e| e.errno() == libc::ECHILD)
        {
            self.reaped.store(true, Ordering::Release);
        }
        reaped
    }

    /// Whether it has been reaped (or found reaped by someone else).
    pub fn is_reaped(&self) -> bool {
        self.reaped.load(Ordering::Acquire)
    }

    /// Kills and reaps a child whose caller cannot go on (its start could
    /// not be completed), so that nothing is left behind. Blocks until the
    /// child is gone, which SIGKILL makes a matter of milliseconds.
    pub fn discard(&self) {
        if self.is_reaped() {
            return;
        }
        let _ = self.pidfd.send_signal(libc::SIGKILL);
        if self.pidfd.wait(None).is_ok() {
            let _ = self.reap();
        }
    }

    /// Its owner is gone before reaping it (a Node worker terminated, say):
    /// unless it has been reaped, it goes to a reaper thread that reaps it
    /// when it exits, so that it is not left a zombie. Fails only if that
    /// reaper cannot take it (see [`orphans::reap_when_exited`]).
    pub fn orphan(&self) -> Result<()> {
        if self.is_reaped() {
            return Ok(());
        }
        // A descriptor of the reaper's own: watchers may still hold ours.
        orphans::reap_when_exited(self.pidfd.try_clone()?)
    }
}

impl Deref for OwnedChild {
    type Target = PidFd;

    fn deref(&self) -> &PidFd {
        &self.pidfd
    }
}
