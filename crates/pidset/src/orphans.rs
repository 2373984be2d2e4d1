//! Children of [`crate::spawn`] whose owner is gone before they exited:
//! reaped by a thread of their own, so that none is left a zombie.
//!
//! A Node worker thread that is terminated tears down its event loop with
//! every wait on it; the children it spawned run on, and nothing would ever
//! reap them (child_process leaves them zombies for the life of the
//! process). Handed over here, each is watched through one epoll instance
//! by one thread, started the first time it is needed, and reaped when it
//! exits: its exit is not reported to anyone, since nobody is waiting.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;

use crate::epoll::Epoll;
use crate::error::{Error, Result};
use crate::pidfd::PidFd;

/// The orphans and the epoll instance that watches them.
struct Orphans {
    epoll: Epoll,
    /// Each orphan by its descriptor, which epoll reports.
    waiting: HashMap<RawFd, PidFd>,
}

/// The orphans, once the reaper has started (or why it could not).
static REAPER: OnceLock<std::result::Result<Mutex<Orphans>, Error>> = OnceLock::new();

/// Reaps `child`, a child of ours whose owner is gone, once it exits (at
/// once if it has). Fails only if the reaper cannot be started (`EMFILE`
/// for its epoll instance, `EAGAIN` for its thread) or cannot watch the
/// child (`ENOSPC`): the child is then left as it was.
pub(crate) fn reap_when_exited(child: PidFd) -> Result<()> {
    let orphans = REAPER
        .get_or_init(start)
        .as_ref()
        .map_err(|e| Error::new(e.errno(), e.syscall(), Some(child.pid())))?;
    let mut orphans = orphans.lock().unwrap_or_else(PoisonError::into_inner);
    orphans.epoll.watch(child.as_fd())?;
    orphans.waiting.insert(child.as_raw_fd(), child);
    Ok(())
}

/// Makes the epoll instance and starts the thread that reaps what it
/// reports: two descriptors for good (the instance, and a duplicate the
/// thread sleeps on without holding the lock).
fn start() -> std::result::Result<Mutex<Orphans>, Error> {
    let epoll = Epoll::new()?;
    let wake = epoll
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| Error::new(e.raw_os_error().unwrap_or(libc::EMFILE), "dup", None))?;
    std::thread::Builder::new()
        .name("pidset-orphans".into())
        .spawn(move || reap_forever(&wake))
        .map_err(|e| {
            Error::new(
                e.raw_os_error().unwrap_or(libc::EAGAIN),
                "pthread_create",
                None,
            )
        })?;
    let orphans = Orphans {
        epoll,
        waiting: HashMap::new(),
    };
    Ok(Mutex::new(orphans))
}

/// The reaper thread: sleeps until an orphan has exited, then reaps every
/// one that has.
fn reap_forever(epoll_fd: &OwnedFd) {
    let mut ready = Vec::new();
    loop {
        // The epoll descriptor is readable while an armed orphan has exited.
        let mut fds = [PollFd::new(epoll_fd, PollFlags::IN)];
        match poll(&mut fds, None) {
            Ok(_) | Err(Errno::INTR) => {}
            // Nothing else can fail on a valid descriptor; should it, give
            // up rather than spin (the orphans stay zombies, as before).
            Err(_) => return,
        }
        let Some(Ok(orphans)) = REAPER.get() else {
            continue;
        };
        let mut orphans = orphans.lock().unwrap_or_else(PoisonError::into_inner);
        ready.clear();
        if orphans
            .epoll
            .ready(&mut ready, Some(Duration::ZERO))
            .is_err()
        {
            continue;
        }
        for fd in ready.drain(..) {
            let Some(child) = orphans.waiting.remove(&fd) else {
                continue;
            };
            // Armed one-shot: unwatched before the descriptor closes.
            let _ = orphans.epoll.unwatch(child.as_fd());
            if let Ok(None) = child.reap() {
                // Readable but not waitable yet (a tracer holds it): again.
                if orphans.epoll.watch(child.as_fd()).is_ok() {
                    orphans.waiting.insert(fd, child);
                }
            }
        }
    }
}
