use std::os::fd::AsRawFd;
use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pidset::PidFd;

use crate::error::{closed_error, syscall_error};
use crate::exit_record::{self, ExitState, EXIT_RECORD_LEN};

/// One pidfd, owned by a JavaScript `PidFd`. Its descriptor is closed by
/// `close()` or, failing that, when the object is garbage-collected, but
/// never while the `Poller` still watches it: the poller holds a share.
#[napi]
pub struct NativePidFd {
    pid: i32,
    inner: Option<Rc<PidFd>>,
}

#[napi]
impl NativePidFd {
    /// `pidfd_open(pid)`; the caller has validated `pid`.
    #[napi(factory)]
    pub fn open(env: Env, pid: i32) -> Result<Self> {
        let inner = PidFd::open(pid).map_err(|e| syscall_error(&env, &e))?;
        Ok(Self {
            pid,
            inner: Some(Rc::new(inner)),
        })
    }

    /// The PID it was opened for.
    #[napi(getter)]
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The raw descriptor, or -1 once closed.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.inner.as_ref().map_or(-1, |p| p.as_raw_fd())
    }

    /// Sends signal number `signal`; false if the process had exited.
    #[napi]
    pub fn send_signal(&self, env: Env, signal: i32) -> Result<bool> {
        self.get(&env, "pidfd_send_signal")?
            .send_signal(signal)
            .map_err(|e| syscall_error(&env, &e))
    }

    /// Whether the process has exited.
    #[napi]
    pub fn has_exited(&self, env: Env) -> Result<bool> {
        self.get(&env, "poll")?
            .has_exited()
            .map_err(|e| syscall_error(&env, &e))
    }

    /// Writes what is known of its exit into `out` as one exit record
    /// (`lib/exit-record.ts`) and returns the record's state.
    #[napi]
    pub fn read_exit(&self, env: Env, mut out: Float64ArraySlice) -> Result<ExitState> {
        let out = record_buffer(&mut out)?;
        let pidfd = self.get(&env, "waitid")?;
        let info = pidfd.exit_info().map_err(|e| syscall_error(&env, &e))?;
        let state = match &info {
            None => ExitState::Running,
            Some(i) if i.status_at_reap => ExitState::Exiting,
            Some(_) => ExitState::Exited,
        };
        exit_record::write(out, pidfd.as_raw_fd(), state, info.as_ref());
        Ok(state)
    }

    /// Reaps the process, a child pidset started (and so owns) that has
    /// exited: writes its exit into `out` as `readExit` does and returns
    /// `Exited`, or `Running` (writing nothing) while it runs.
    #[napi]
    pub fn reap(&self, env: Env, mut out: Float64ArraySlice) -> Result<ExitState> {
        let out = record_buffer(&mut out)?;
        let pidfd = self.get(&env, "waitid")?;
        match pidfd.reap().map_err(|e| syscall_error(&env, &e))? {
            None => Ok(ExitState::Running),
            Some(info) => {
                exit_record::write(out, pidfd.as_raw_fd(), ExitState::Exited, Some(&info));
                Ok(ExitState::Exited)
            }
        }
    }

    /// Whether the process is an unreaped child of this process.
    #[napi]
    pub fn is_unreaped_child(&self, env: Env) -> Result<bool> {
        self.get(&env, "waitid")?
            .is_unreaped_child()
            .map_err(|e| syscall_error(&env, &e))
    }

    /// A second handle to the same process, closed independently.
    #[napi]
    pub fn duplicate(&self, env: Env) -> Result<NativePidFd> {
        let pidfd = self.get(&env, "dup")?;
        let copy = pidfd.try_clone().map_err(|e| syscall_error(&env, &e))?;
        Ok(Self::from_core(Rc::new(copy)))
    }

    /// Kills and reaps a child pidset started whose start cannot be
    /// completed, then closes the handle (see `pidset::Child::discard`).
    #[napi]
    pub fn discard(&mut self) {
        if let Some(pidfd) = self.inner.take() {
            pidset::Child::discard(&pidfd);
        }
    }

    /// Closes the descriptor (once no poller watches it); idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }
}

impl NativePidFd {
    /// Wraps a handle the core opened.
    pub(crate) fn from_core(inner: Rc<PidFd>) -> Self {
        Self {
            pid: inner.pid(),
            inner: Some(inner),
        }
    }

    /// The open handle, or EBADF naming `syscall` once closed.
    pub(crate) fn get(&self, env: &Env, syscall: &'static str) -> Result<&Rc<PidFd>> {
        self.inner
            .as_ref()
            .ok_or_else(|| closed_error(env, syscall, self.pid))
    }
}

/// The memory of a buffer lib/ passed for one exit record, checked to fit one.
fn record_buffer<'a>(out: &'a mut Float64ArraySlice<'_>) -> Result<&'a mut [f64]> {
    // SAFETY: JavaScript is not running while a method of this binding does,
    // and lib/ passes a plain (not shared) Float64Array of its own, so
    // nothing else reads or writes the memory during the call.
    let out = unsafe { out.as_mut() };
    if out.len() < EXIT_RECORD_LEN as usize {
        return Err(napi::Error::new(
            Status::InvalidArg,
            "the record buffer is too short",
        ));
    }
    Ok(out)
}
