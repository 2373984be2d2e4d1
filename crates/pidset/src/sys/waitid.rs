use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::exit_info::{ExitStatus, ResourceUsage};

/// `P_PIDFD` from `<linux/wait.h>` (Linux 5.4); older libc crates lack it.
const P_PIDFD: libc::idtype_t = 3;

/// What `waitid(P_PIDFD, fd, WEXITED | WNOHANG | WNOWAIT)` saw.
pub(crate) enum Peek {
    /// The process is a zombie child of ours: its status and resource usage.
    Exited(Option<ExitStatus>, ResourceUsage),
    /// It is our child but has nothing to report yet: still running, or (for a
    /// ptraced child) exited but held by its tracer.
    NotYet,
}

/// Reads a child's exit status without reaping it.
///
/// The raw syscall is used because only it takes the `rusage` argument, and
/// with `WNOWAIT` the kernel still fills it in for the zombie. Errors come back
/// as a positive errno: `ECHILD` when the process is not our child (or was
/// already reaped), `EINVAL` on kernels before 5.4 (no `P_PIDFD`).
pub(crate) fn peek_exit(pidfd: BorrowedFd<'_>) -> Result<Peek, i32> {
    wait_exit(pidfd, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
}

/// Reaps a child that has exited, returning what [`peek_exit`] would have:
/// the zombie is gone afterwards and its PID free for reuse. Only for a
/// child whose owner is this library (see `spawn`); errors as `peek_exit`.
pub(crate) fn reap_exit(pidfd: BorrowedFd<'_>) -> Result<Peek, i32> {
    wait_exit(pidfd, libc::WEXITED | libc::WNOHANG)
}

fn wait_exit(pidfd: BorrowedFd<'_>, options: libc::c_int) -> Result<Peek, i32> {
    if let Some(errno) = super::injected("waitid") {
        return Err(errno);
    }
    loop {
        let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
        let mut usage = MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: both out-pointers refer to zeroed, properly sized and
        // aligned local storage that outlives the call; the fd is borrowed, so
        // it stays open for the duration of the call.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_waitid,
                P_PIDFD,
                pidfd.as_raw_fd(),
                info.as_mut_ptr(),
                options,
                usage.as_mut_ptr(),
            )
        };
        if ret == -1 {
            let errno = super::last_errno();
            if errno == libc::EINTR {
                continue;
            }
            return Err(errno);
        }
        // SAFETY: the kernel wrote the structure (or left it zeroed, which is
        // a valid siginfo_t: with WNOHANG a zero si_pid means "nothing yet").
        let info = unsafe { info.assume_init() };
        // SAFETY: as above; zeroed memory is a valid rusage.
        let usage = unsafe { usage.assume_init() };
        // SAFETY: si_pid and si_status are valid to read for the SIGCHLD
        // siginfo that waitid fills in, and read as 0 when it filled nothing.
        let (si_pid, si_status) = unsafe { (info.si_pid(), info.si_status()) };
        if si_pid == 0 {
            return Ok(Peek::NotYet);
        }
        let status = ExitStatus::from_siginfo(info.si_code, si_status);
        return Ok(Peek::Exited(status, ResourceUsage::from(&usage)));
    }
}
