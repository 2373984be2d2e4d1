//! `NativeCgroup`: the core's [`pidset::Cgroup`], a cgroup of a child's own.

use std::path::Path;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::syscall_error;
use crate::native_pidfd::NativePidFd;

/// A cgroup (v2) made for one child (see `lib/containment.ts`).
#[napi]
pub struct NativeCgroup {
    inner: Arc<pidset::Cgroup>,
}

#[napi]
impl NativeCgroup {
    /// Creates one under `parent` (a cgroup v2 directory), or under this
    /// process's own cgroup; `guarded`, inside the guard cgroup that is
    /// killed when this process ends.
    #[napi(factory)]
    pub fn create(env: Env, parent: Option<String>, guarded: bool) -> Result<Self> {
        let parent = parent.as_deref().map(Path::new);
        let created = if guarded {
            pidset::Cgroup::create_guarded(parent)
        } else {
            pidset::Cgroup::create(parent)
        };
        let inner = created.map_err(|e| syscall_error(&env, &e))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Its directory.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.inner.path().display().to_string()
    }

    /// Whether any process is in it.
    #[napi]
    pub fn populated(&self, env: Env) -> Result<bool> {
        self.inner
            .is_populated()
            .map_err(|e| syscall_error(&env, &e))
    }

    /// A verified handle for every process in it now.
    #[napi]
    pub fn members(&self, env: Env) -> Result<Vec<NativePidFd>> {
        let members = self.inner.members().map_err(|e| syscall_error(&env, &e))?;
        Ok(members
            .into_iter()
            .map(|pidfd| NativePidFd::from_core(Arc::new(pidfd)))
            .collect())
    }

    /// Kills every process in it (`cgroup.kill`, or freeze, SIGKILL, thaw).
    #[napi]
    pub fn kill(&self, env: Env) -> Result<()> {
        self.inner.kill().map_err(|e| syscall_error(&env, &e))
    }

    /// Sends signal number `signal` to every process in it, frozen
    /// meanwhile; returns how many it reached.
    #[napi]
    pub fn signal(&self, env: Env, signal: i32) -> Result<u32> {
        let sent = self
            .inner
            .signal(signal)
            .map_err(|e| syscall_error(&env, &e))?;
        Ok(u32::try_from(sent).unwrap_or(u32::MAX))
    }

    /// Removes it; EBUSY while processes are in it.
    #[napi]
    pub fn remove(&self, env: Env) -> Result<()> {
        self.inner.remove().map_err(|e| syscall_error(&env, &e))
    }
}

impl NativeCgroup {
    /// The core's cgroup, for a spawn to put its child in.
    pub(crate) fn core(&self) -> Arc<pidset::Cgroup> {
        Arc::clone(&self.inner)
    }
}
