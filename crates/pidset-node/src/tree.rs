//! Process trees for JavaScript: the core's `descendants`, and its
//! `kill_tree` run on the runtime's thread pool (that walk waits for each
//! process it stops to stop, too long for the JavaScript thread in a big
//! tree).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pidset::PidFd;

use crate::error::syscall_error;
use crate::native_pidfd::NativePidFd;

/// The walk behind `NativePidFd.killTree()`.
pub struct KillTreeTask {
    root: Arc<PidFd>,
    signal: i32,
    include_root: bool,
}

#[napi]
impl Task for KillTreeTask {
    type Output = pidset::Result<pidset::KilledTree>;
    type JsValue = Vec<NativePidFd>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(pidset::kill_tree(
            &self.root,
            self.signal,
            self.include_root,
        ))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        match output {
            Ok(pidset::KilledTree {
                error: Some(err), ..
            })
            | Err(err) => Err(syscall_error(&env, &err)),
            Ok(killed) => Ok(wrap_all(killed.signalled)),
        }
    }
}

fn wrap_all(handles: Vec<PidFd>) -> Vec<NativePidFd> {
    handles
        .into_iter()
        .map(|pidfd| NativePidFd::from_core(Arc::new(pidfd)))
        .collect()
}

#[napi]
impl NativePidFd {
    /// A handle for every descendant of the process at this moment, parents
    /// before their children, each verified to be the process listed.
    #[napi]
    pub fn descendants(&self, env: Env) -> Result<Vec<NativePidFd>> {
        let root = self.get(&env, "pidfd_open")?;
        pidset::descendants(root)
            .map(wrap_all)
            .map_err(|e| syscall_error(&env, &e))
    }

    /// Sends signal number `signal` to every descendant, and to the process
    /// itself with `includeRoot`, stopping each while the tree is walked so
    /// that none escapes; resolves with a handle for every process
    /// signalled (the root first when included). Rejects with the first
    /// failure to signal one (every other was signalled).
    #[napi]
    pub fn kill_tree(
        &self,
        env: Env,
        signal: i32,
        include_root: bool,
    ) -> Result<AsyncTask<KillTreeTask>> {
        let root = Arc::clone(self.get(&env, "pidfd_send_signal")?);
        Ok(AsyncTask::new(KillTreeTask {
            root,
            signal,
            include_root,
        }))
    }
}
