use std::os::fd::AsRawFd;

use napi_derive::napi;
use pidset::PidFd;

use crate::error::{closed_error, syscall_error, Result};
use crate::exit_info::NativeExitInfo;

/// One pidfd, owned by a JavaScript `PidFd`. Its descriptor is closed by
/// `close()` or, failing that, when the object is garbage-collected.
#[napi]
pub struct NativePidFd {
    pid: i32,
    inner: Option<PidFd>,
}

#[napi]
impl NativePidFd {
    /// `pidfd_open(pid)`; the caller has validated `pid`.
    #[napi(factory)]
    pub fn open(pid: i32) -> Result<Self> {
        let inner = PidFd::open(pid).map_err(syscall_error)?;
        Ok(Self {
            pid,
            inner: Some(inner),
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
    pub fn send_signal(&self, signal: i32) -> Result<bool> {
        self.get("pidfd_send_signal")?
            .send_signal(signal)
            .map_err(syscall_error)
    }

    /// Whether the process has exited.
    #[napi]
    pub fn has_exited(&self) -> Result<bool> {
        self.get("poll")?.has_exited().map_err(syscall_error)
    }

    /// Its exit, or null while it runs.
    #[napi]
    pub fn exit_info(&self) -> Result<Option<NativeExitInfo>> {
        let info = self.get("waitid")?.exit_info().map_err(syscall_error)?;
        Ok(info.map(NativeExitInfo::from))
    }

    /// Closes the descriptor; idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }
}

impl NativePidFd {
    /// The open handle, or EBADF naming `syscall` once closed.
    pub(crate) fn get(&self, syscall: &'static str) -> Result<&PidFd> {
        self.inner
            .as_ref()
            .ok_or_else(|| closed_error(syscall, self.pid))
    }
}
