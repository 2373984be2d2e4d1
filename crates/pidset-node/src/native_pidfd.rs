use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pidset::PidFd;

use crate::error::{closed_error, syscall_error};
use crate::exit_record::{self, ExitState, EXIT_RECORD_LEN};
use crate::kinds::{NamespaceKind, SignalScope};
use crate::process_info::ProcessInfo;

/// One pidfd, owned by a JavaScript `PidFd`. Its descriptor is closed by
/// `close()` or, failing that, when the object is garbage-collected, but
/// never while the `Poller` still watches it: the poller holds a share.
/// It never reaps: only a `NativeChild` can.
#[napi]
pub struct NativePidFd {
    pid: i32,
    inner: Option<Arc<PidFd>>,
}

#[napi]
impl NativePidFd {
    /// `pidfd_open(pid)`; the caller has validated `pid`.
    #[napi(factory)]
    pub fn open(env: Env, pid: i32) -> Result<Self> {
        let inner = PidFd::open(pid).map_err(|e| syscall_error(&env, &e))?;
        Ok(Self {
            pid,
            inner: Some(Arc::new(inner)),
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

    /// Sends signal number `signal` to whom `scope` says (the process by
    /// default); false if the process had exited.
    #[napi]
    pub fn send_signal(&self, env: Env, signal: i32, scope: Option<SignalScope>) -> Result<bool> {
        let scope = scope.unwrap_or(SignalScope::Process);
        self.get(&env, "pidfd_send_signal")?
            .send_signal_to(signal, scope.into())
            .map_err(|e| syscall_error(&env, &e))
    }

    /// A pidfd from elsewhere (an inherited or received descriptor),
    /// duplicated: `fd` stays the caller's.
    #[napi(factory)]
    pub fn adopt(env: Env, fd: i32) -> Result<Self> {
        let inner = with_borrowed(&env, fd, "fcntl", PidFd::adopt)?;
        Ok(Self::from_core(Arc::new(inner)))
    }

    /// The process at the other end of the Unix-domain socket `fd`.
    #[napi(factory)]
    pub fn from_peer(env: Env, fd: i32) -> Result<Self> {
        let inner = with_borrowed(&env, fd, "getsockopt", PidFd::from_peer)?;
        Ok(Self::from_core(Arc::new(inner)))
    }

    /// What the kernel knows of the running process.
    #[napi]
    pub fn info(&self, env: Env) -> Result<ProcessInfo> {
        self.get(&env, "info")?
            .info()
            .map(ProcessInfo::from)
            .map_err(|e| syscall_error(&env, &e))
    }

    /// The process's pidfs inode number (Linux 6.9+).
    #[napi]
    pub fn id(&self, env: Env) -> Result<BigInt> {
        let id = self
            .get(&env, "fstat")?
            .id()
            .map_err(|e| syscall_error(&env, &e))?;
        Ok(BigInt::from(id))
    }

    /// Whether `other` names the same process.
    #[napi]
    pub fn same_process(&self, env: Env, other: &NativePidFd) -> Result<bool> {
        let mine = self.get(&env, "fstat")?;
        let theirs = other.get(&env, "fstat")?;
        mine.same_process(theirs)
            .map_err(|e| syscall_error(&env, &e))
    }

    /// A copy of the process's descriptor `target`, now the caller's to close.
    #[napi]
    pub fn get_fd(&self, env: Env, target: i32) -> Result<i32> {
        let copy = self
            .get(&env, "pidfd_getfd")?
            .get_fd(target)
            .map_err(|e| syscall_error(&env, &e))?;
        Ok(copy.into_raw_fd())
    }

    /// A descriptor for the process's namespace of `kind`, now the caller's
    /// to close.
    #[napi]
    pub fn namespace(&self, env: Env, kind: NamespaceKind) -> Result<i32> {
        let fd = self
            .get(&env, "ioctl")?
            .namespace(kind.into())
            .map_err(|e| syscall_error(&env, &e))?;
        Ok(fd.into_raw_fd())
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
        Ok(Self::from_core(Arc::new(copy)))
    }

    /// Closes the descriptor (once no poller watches it); idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }
}

impl NativePidFd {
    /// Wraps a handle the core opened.
    pub(crate) fn from_core(inner: Arc<PidFd>) -> Self {
        Self {
            pid: inner.pid(),
            inner: Some(inner),
        }
    }

    /// The open handle, or EBADF naming `syscall` once closed.
    pub(crate) fn get(&self, env: &Env, syscall: &'static str) -> Result<&Arc<PidFd>> {
        self.inner
            .as_ref()
            .ok_or_else(|| closed_error(env, syscall, self.pid))
    }
}

/// Runs `call` on descriptor number `fd`, which JavaScript gave, checked
/// to be open first (EBADF, named `syscall`, if not).
fn with_borrowed<T>(
    env: &Env,
    fd: i32,
    syscall: &'static str,
    call: impl FnOnce(BorrowedFd<'_>) -> pidset::Result<T>,
) -> Result<T> {
    // SAFETY: F_GETFD reads the descriptor's flags and nothing else; any
    // integer is a valid argument (EBADF if it is not an open descriptor).
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(syscall_error(
            env,
            &pidset::Error::new(libc::EBADF, syscall, None),
        ));
    }
    // SAFETY: `fd` is open (checked just above) and stays open for the
    // call: JavaScript, which owns it, is not running while this does. A
    // descriptor is only a number to the kernel: were another thread to
    // close it meanwhile, the calls below would fail with EBADF or read
    // whatever file then has the number, and never touch memory or close
    // anything through the borrow.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    call(borrowed).map_err(|e| syscall_error(env, &e))
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
