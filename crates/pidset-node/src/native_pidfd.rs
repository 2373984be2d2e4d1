use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pidset::{Namespace, PidFd, SignalScope};

use crate::error::{closed_error, syscall_error};
use crate::exit_record::{self, ExitState, EXIT_RECORD_LEN};

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

    /// Sends signal number `signal` to the process (scope 0), its main
    /// thread (1) or its process group (2); false if the process had exited.
    #[napi]
    pub fn send_signal(&self, env: Env, signal: i32, scope: Option<u32>) -> Result<bool> {
        let scope = match scope.unwrap_or(0) {
            0 => SignalScope::Process,
            1 => SignalScope::Thread,
            2 => SignalScope::ProcessGroup,
            _ => return Err(napi::Error::new(Status::InvalidArg, "unknown signal scope")),
        };
        self.get(&env, "pidfd_send_signal")?
            .send_signal_to(signal, scope)
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

    /// What the kernel knows of the running process (`ProcessInfo`).
    #[napi(
        ts_return_type = "{ pid: number; tgid: number; ppid: number; uid: number; euid: number; suid: number; fsuid: number; gid: number; egid: number; sgid: number; fsgid: number; cgroupId: bigint | null }"
    )]
    pub fn info<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let info = self
            .get(env, "info")?
            .info()
            .map_err(|e| syscall_error(env, &e))?;
        let mut obj = Object::new(env)?;
        obj.set("pid", info.pid)?;
        obj.set("tgid", info.tgid)?;
        obj.set("ppid", info.ppid)?;
        for (name, value) in [
            ("uid", info.uid),
            ("euid", info.euid),
            ("suid", info.suid),
            ("fsuid", info.fsuid),
            ("gid", info.gid),
            ("egid", info.egid),
            ("sgid", info.sgid),
            ("fsgid", info.fsgid),
        ] {
            obj.set(name, value)?;
        }
        match info.cgroup_id {
            Some(id) => obj.set("cgroupId", BigInt::from(id))?,
            None => obj.set("cgroupId", Null)?,
        }
        Ok(obj)
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

    /// A descriptor for one of the process's namespaces, now the caller's
    /// to close; `kind` indexes `NAMESPACES` (lib/pid-fd.ts keeps the names).
    #[napi]
    pub fn namespace(&self, env: Env, kind: u32) -> Result<i32> {
        let kind = usize::try_from(kind)
            .ok()
            .and_then(|k| NAMESPACES.get(k).copied())
            .ok_or_else(|| napi::Error::new(Status::InvalidArg, "unknown namespace"))?;
        let fd = self
            .get(&env, "ioctl")?
            .namespace(kind)
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

/// The namespace kinds in the order of lib/pid-fd.ts's `NAMESPACE_KINDS`.
const NAMESPACES: [Namespace; 10] = [
    Namespace::Cgroup,
    Namespace::Ipc,
    Namespace::Mnt,
    Namespace::Net,
    Namespace::Pid,
    Namespace::PidForChildren,
    Namespace::Time,
    Namespace::TimeForChildren,
    Namespace::User,
    Namespace::Uts,
];

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
