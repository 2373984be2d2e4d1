//! A child that exits at once, for the kernel probe (`kernel.rs`), which
//! needs a process of its own to reap.

/// Forks a child that calls `_exit(code)` at once, and returns its PID; the
/// caller reaps it. Errors are a positive errno (EAGAIN, ENOMEM).
pub(crate) fn fork_exiting(code: i32) -> Result<i32, i32> {
    // SAFETY: the child calls only _exit, which is async-signal-safe, so
    // forking a multithreaded process is sound.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: ends the child at once, running nothing of the parent's.
        unsafe { libc::_exit(code) };
    }
    if child < 0 {
        return Err(super::last_errno());
    }
    Ok(child)
}
