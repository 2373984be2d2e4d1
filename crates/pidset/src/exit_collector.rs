//! A thread that collects an [`ExitWatcher`]'s reports as processes exit and
//! hands each batch on: how exits are learned where no event loop can take
//! the watcher's descriptor (Bun and Deno load Node-API addons but give them
//! no libuv), or where a caller wants them off its own thread.
//!
//! Why the thread collects, rather than only saying "ready" to the owner's
//! thread: a report is read (`waitid` with `WNOWAIT`, rusage included) the
//! moment the process exits, before a runtime that reaps its own children on
//! SIGCHLD can take the status away (kernels before 6.15 keep no status
//! after the reap), and the owner's thread receives finished reports.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::{fcntl_dupfd_cloexec, Errno};

use crate::epoll::new_eventfd;
use crate::error::{Error, Result};
use crate::exit_watcher::{Event, ExitWatcher};
use crate::sys::injected;

/// A watcher that a collector thread and its owner share.
pub type SharedWatcher = Arc<Mutex<ExitWatcher>>;

/// Locks a shared watcher. A poisoned lock means a panic while holding it,
/// which nothing in the watcher can cause; its state stays consistent
/// (every method leaves it so), so it is used as it is.
pub fn lock_watcher(watcher: &Mutex<ExitWatcher>) -> MutexGuard<'_, ExitWatcher> {
    watcher.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running collector thread. It owns the thread: [`stop`](Self::stop) (or
/// dropping it) ends and joins it, so `on_batch` is never called afterwards.
pub struct ExitCollector {
    /// An eventfd the thread polls beside the watcher: written once to end it.
    stop: Arc<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl ExitCollector {
    /// Starts a thread that waits for `watcher`'s processes to exit and
    /// calls `on_batch` with each batch of reports (never empty), in the
    /// order collected. `on_batch` returning false ends the thread (its
    /// receiver is gone). The watcher's lock is held only while collecting,
    /// never while waiting, so its owner can watch and unwatch meanwhile.
    pub fn start<F>(watcher: SharedWatcher, on_batch: F) -> Result<Self>
    where
        F: FnMut(Vec<Event>) -> bool + Send + 'static,
    {
        // Polled without the lock: a descriptor of the thread's own, to the
        // same epoll instance.
        let readable = fcntl_dupfd_cloexec(lock_watcher(&watcher).as_fd(), 0)
            .map_err(|e| Error::new(e.raw_os_error(), "fcntl", None))?;
        let stop = Arc::new(new_eventfd()?);
        let thread_stop = Arc::clone(&stop);
        if let Some(errno) = injected("pthread_create") {
            return Err(Error::new(errno, "pthread_create", None));
        }
        let thread = std::thread::Builder::new()
            .name("pidset-exits".into())
            .spawn(move || run(&watcher, &readable, &thread_stop, on_batch))
            .map_err(|e| {
                let errno = e.raw_os_error().unwrap_or(libc::EAGAIN);
                Error::new(errno, "pthread_create", None)
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Ends the thread and waits for it; `on_batch` is not called after this
    /// returns.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        // Cannot fail short of a counter overflow, which one write cannot
        // reach.
        let _ = rustix::io::write(&*self.stop, &1u64.to_ne_bytes());
        // The thread only returns; a panic in `on_batch` was its own, and
        // was already reported on stderr by the panic hook.
        let _ = thread.join();
    }
}

impl Drop for ExitCollector {
    fn drop(&mut self) {
        self.halt();
    }
}

impl std::fmt::Debug for ExitCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExitCollector")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

/// How long to back off after `poll` itself fails (ENOMEM: nothing else
/// can fail on two open descriptors), so that a persistent failure does not
/// spin a core.
const POLL_FAILURE_BACKOFF: Duration = Duration::from_millis(10);

/// The thread's loop: wait for readiness, collect, hand on, repeat.
fn run<F>(watcher: &Mutex<ExitWatcher>, readable: &OwnedFd, stop: &OwnedFd, mut on_batch: F)
where
    F: FnMut(Vec<Event>) -> bool,
{
    loop {
        let mut fds = [
            PollFd::new(readable, PollFlags::IN),
            PollFd::new(stop, PollFlags::IN),
        ];
        let polled = match injected("poll") {
            Some(errno) => Err(Errno::from_raw_os_error(errno)),
            None => poll(&mut fds, None),
        };
        match polled {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(_) => std::thread::sleep(POLL_FAILURE_BACKOFF),
        }
        if !fds[1].revents().is_empty() {
            return;
        }
        let mut events = Vec::new();
        // Never blocks: the wait was the poll above. A failing epoll_wait
        // becomes a report for every watched process, handed on as any.
        lock_watcher(watcher).collect(Some(Duration::ZERO), &mut events);
        if !events.is_empty() && !on_batch(events) {
            return;
        }
    }
}
