//! The handle through which `spawn()` owns a child: the only one in the
//! binding that can reap, as `pidset::OwnedChild` is in the core.

use std::os::fd::AsRawFd;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pidset::OwnedChild;

use crate::error::closed_error;
use crate::native_pidfd::NativePidFd;

/// A child `spawn()` started, held by its JavaScript `Subprocess`. The
/// poller reaps it when reporting its exit (`Poller.watchChild`); if this
/// handle is closed or collected before that (its worker was terminated),
/// the child goes to the core's orphan reaper, so it is never left a zombie.
#[napi]
pub struct NativeChild {
    pid: i32,
    inner: Option<Arc<OwnedChild>>,
}

#[napi]
impl NativeChild {
    /// Its PID.
    #[napi(getter)]
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Its pidfd's number, or -1 once closed.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.inner.as_ref().map_or(-1, |c| c.as_raw_fd())
    }

    /// A handle to the child for everything but reaping (signals, reads,
    /// duplicates): the same descriptor, shared, so it costs no system call.
    #[napi]
    pub fn handle(&self, env: Env) -> Result<NativePidFd> {
        let child = self.get(&env, "dup")?;
        Ok(NativePidFd::from_core(Arc::clone(child.pidfd())))
    }

    /// Kills and reaps a child whose start cannot be completed, then closes
    /// the handle (see `OwnedChild::discard`).
    #[napi]
    pub fn discard(&mut self) {
        if let Some(child) = self.inner.take() {
            child.discard();
        }
    }

    /// Lets go of the child: reaped already, or handed to the orphan reaper.
    /// Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.release();
    }
}

impl Drop for NativeChild {
    /// Collected or torn down with its environment (a terminated worker):
    /// a child not yet reaped is reaped anyway.
    fn drop(&mut self) {
        self.release();
    }
}

impl NativeChild {
    /// Wraps a child `spawn` started.
    pub(crate) fn new(child: OwnedChild) -> Self {
        Self {
            pid: child.pid(),
            inner: Some(Arc::new(child)),
        }
    }

    fn release(&mut self) {
        if let Some(child) = self.inner.take() {
            // If even that fails (no descriptor, no thread), the child is
            // left as child_process leaves one: nothing else can be done.
            let _ = child.orphan();
        }
    }

    /// The child, or EBADF naming `syscall` once closed.
    pub(crate) fn get(&self, env: &Env, syscall: &'static str) -> Result<&Arc<OwnedChild>> {
        self.inner
            .as_ref()
            .ok_or_else(|| closed_error(env, syscall, self.pid))
    }
}
