//! Starting a program in a new child the way glibc's `posix_spawn` does:
//! `clone(CLONE_VM | CLONE_VFORK)`. The child borrows this process's memory
//! instead of copying its page tables, and this thread sleeps until the
//! child has called `execve` or died. For a parent the size of Node (tens
//! to hundreds of MiB mapped), this is what makes a spawn cost a fraction
//! of a `fork`, which copies every page table entry before the child can
//! run (libuv forks; Node's `child_process.spawn` pays that every time).
//!
//! `CLONE_PIDFD` (Linux 5.2) has the kernel hand us a pidfd for the child
//! in the same call, so the handle exists before the child runs.
//!
//! The child runs on a stack of its own, in memory it shares with the
//! parent: it may only make raw system calls on data the parent prepared.
//! No allocation, no locks, no thread-locals but errno (which the glibc
//! `syscall` wrapper writes into the suspended parent thread's slot, where
//! nobody reads it).

use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::last_errno;

/// `CLONE_PIDFD` from `<linux/sched.h>` (Linux 5.2).
const CLONE_PIDFD: c_int = 0x1000;
/// `CLOSE_RANGE_CLOEXEC` from `<linux/close_range.h>` (Linux 5.11).
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
/// The highest signal number on x86_64 and arm64 (`SIGRTMAX`).
const SIGNAL_MAX: c_int = 64;
/// The child's stack: ample for the few small frames it uses.
const CHILD_STACK: usize = 128 * 1024;
/// The shell that runs a file the kernel cannot execute (`ENOEXEC`: a
/// script without `#!`), as `execvp` and so child_process do.
const SHELL: &CStr = c"/bin/sh";

/// What the child does before `execve`, all decided in the parent.
#[derive(Debug)]
pub(crate) struct Program {
    /// The paths to try, in order (one for a program given with a `/`; one
    /// per `PATH` entry otherwise).
    pub candidates: Vec<CString>,
    /// `argv`, `argv[0]` included.
    pub argv: Vec<CString>,
    /// The whole environment, as `NAME=value`.
    pub envp: Vec<CString>,
    /// The working directory, if not the parent's.
    pub cwd: Option<CString>,
    /// For each of stdin, stdout, stderr: the descriptor (3 or above) to
    /// put in its place, or `None` to keep the parent's.
    pub stdio: [Option<RawFd>; 3],
    /// Whether the child calls `setsid`.
    pub new_session: bool,
    /// `setuid`, after `setgid`; supplementary groups are dropped when either
    /// is set (where permitted: as libuv does, a failure there is ignored).
    pub uid: Option<u32>,
    /// `setgid`.
    pub gid: Option<u32>,
    /// Whether the child gets SIGKILL when the thread that spawns it ends
    /// (`PR_SET_PDEATHSIG`): set after the user and group change, which
    /// clears it, and checked against the parent already being gone.
    pub kill_on_parent_exit: bool,
    /// A cgroup v2 directory the child moves itself into first thing, by
    /// writing to its `cgroup.procs`: before any code of its own runs, so
    /// everything it ever forks starts inside.
    pub cgroup: Option<RawFd>,
}

/// A started child: its PID and, where the kernel supports `CLONE_PIDFD`,
/// its pidfd (without `PIDFD_NONBLOCK`).
#[derive(Debug)]
pub(crate) struct Started {
    pub pid: i32,
    pub pidfd: Option<OwnedFd>,
}

/// Starts `program` in a new child of this process.
///
/// Returns once the child has called `execve` successfully, or fails with
/// the errno of the step that failed in the child (the child is reaped
/// then), or of `pipe2`, `mmap` or `clone` in the parent.
pub(crate) fn clone_exec(program: &Program) -> Result<Started, i32> {
    let candidates: Vec<*const c_char> = program.candidates.iter().map(|c| c.as_ptr()).collect();
    let argv = null_terminated(&program.argv);
    let envp = null_terminated(&program.envp);
    // `/bin/sh`, the script's path (slot 1, which the child fills in), then
    // the arguments after argv[0], as execvp runs a script without `#!`.
    let mut shell_argv: Vec<*const c_char> = [SHELL.as_ptr(), std::ptr::null()]
        .into_iter()
        .chain(argv.iter().skip(1).copied())
        .collect();
    let report = ReportPipe::new()?;
    let stack = ChildStack::new()?;
    let context = ChildContext {
        candidates: &candidates,
        argv: argv.as_ptr(),
        shell_argv: shell_argv.as_mut_ptr(),
        envp: envp.as_ptr(),
        cwd: program
            .cwd
            .as_deref()
            .map_or(std::ptr::null(), CStr::as_ptr),
        stdio: program.stdio.map(|fd| fd.unwrap_or(-1)),
        new_session: program.new_session,
        change_ids: program.uid.is_some() || program.gid.is_some(),
        uid: program.uid,
        gid: program.gid,
        // The child compares its parent with this after PR_SET_PDEATHSIG.
        parent: if program.kill_on_parent_exit {
            std::process::id() as i32
        } else {
            0
        },
        cgroup: program.cgroup.unwrap_or(-1),
        report: report.write_end(),
    };
    let (pid, pidfd) = clone_child(&context, &stack)?;
    drop(stack);
    match report.read_child_errno() {
        None => Ok(Started { pid, pidfd }),
        Some(errno) => {
            reap_child(pid);
            Err(errno)
        }
    }
}

/// Pointers to `strings`, then a null, as `execve` takes them. The pointers
/// borrow `strings`, which must outlive every use of the result.
fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Everything the child reads, all of it owned by the parent's frame in
/// [`clone_exec`], which outlives the child's use (the parent sleeps until
/// the child has exec'd or died).
struct ChildContext<'a> {
    candidates: &'a [*const c_char],
    argv: *const *const c_char,
    /// The argv of [`SHELL`] for a script: null-terminated, slot 1 left for
    /// the child to fill in with the script's path (the parent does not
    /// touch it until the child has exec'd or died).
    shell_argv: *mut *const c_char,
    envp: *const *const c_char,
    cwd: *const c_char,
    stdio: [RawFd; 3],
    new_session: bool,
    change_ids: bool,
    uid: Option<u32>,
    gid: Option<u32>,
    /// This process's PID when the child is to die with it; 0 otherwise.
    parent: i32,
    /// The cgroup directory to join, or -1.
    cgroup: RawFd,
    report: RawFd,
}

/// Clones the child with every signal blocked in this thread, so that no
/// handler of the parent's can run in the child (on shared memory, writing
/// to the parent's descriptors) before the child has reset them all.
fn clone_child(
    context: &ChildContext<'_>,
    stack: &ChildStack,
) -> Result<(i32, Option<OwnedFd>), i32> {
    let previous = block_all_signals();
    let base = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    let mut pidfd: c_int = -1;
    let mut pid = raw_clone(context, stack, base | CLONE_PIDFD, &mut pidfd);
    let mut errno = if pid < 0 { last_errno() } else { 0 };
    if pid < 0 && errno == libc::EINVAL {
        // A kernel or sandbox that rejects CLONE_PIDFD: the caller opens
        // the pidfd on the unreaped child instead.
        pidfd = -1;
        pid = raw_clone(context, stack, base, &mut pidfd);
        errno = if pid < 0 { last_errno() } else { 0 };
    }
    restore_signals(&previous);
    if pid < 0 {
        return Err(errno);
    }
    // Kernels before 5.2 ignore the flag they do not know and leave -1.
    // SAFETY: a descriptor the kernel created for us alone in this call.
    let pidfd = (pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    Ok((pid, pidfd))
}

fn raw_clone(
    context: &ChildContext<'_>,
    stack: &ChildStack,
    flags: c_int,
    pidfd: &mut c_int,
) -> c_int {
    // SAFETY: `child_main` gets a pointer to `context`, which outlives the
    // child's use of it (CLONE_VFORK: this call returns only once the child
    // has exec'd or exited); `stack.top()` is the 16-byte aligned top of a
    // mapping of CHILD_STACK bytes that is not unmapped before this returns;
    // with CLONE_PIDFD the kernel writes a descriptor number to `pidfd`.
    unsafe {
        libc::clone(
            child_main,
            stack.top(),
            flags,
            context as *const ChildContext<'_> as *mut c_void,
            pidfd as *mut c_int,
        )
    }
}

/// The child's first and only function. Returns only on failure, with 127
/// as the exit status (after telling the parent why through `report`).
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `ChildContext` clone_exec passed, alive and
    // unchanged while the parent sleeps.
    let context = unsafe { &*(arg as *const ChildContext<'_>) };
    let errno = match prepare_and_exec(context) {
        Ok(never) => match never {},
        Err(errno) => errno,
    };
    let bytes = errno.to_ne_bytes();
    // SAFETY: writes 4 bytes from a local array to our own pipe.
    unsafe { libc::syscall(libc::SYS_write, context.report, bytes.as_ptr(), bytes.len()) };
    127
}

/// The child, between clone and exec: see `spawn` for what a clean start is.
fn prepare_and_exec(context: &ChildContext<'_>) -> Result<std::convert::Infallible, i32> {
    for signal in 1..=SIGNAL_MAX {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            reset_signal(signal);
        }
    }
    // Every handler is the default now, so a signal may be let in: a SIGINT
    // sent to the group while we start kills the child, as it should.
    set_signal_mask(&0u64)?;
    if context.cgroup >= 0 {
        join_cgroup(context.cgroup)?;
    }
    if context.new_session {
        // SAFETY: no arguments.
        check(unsafe { libc::syscall(libc::SYS_setsid) })?;
    }
    for (target, &source) in (0..3).zip(context.stdio.iter()) {
        // Sources are 3 or above (the parent saw to it), so no dup2 here
        // overwrites a source a later one reads.
        if source >= 0 {
            // SAFETY: descriptors only, no pointers.
            check(unsafe { libc::syscall(libc::SYS_dup3, source, target, 0) })?;
        } else {
            // An inherited stream survives exec whatever its flag: it may be
            // close-on-exec in the parent (Node reopens a closed stdin as
            // /dev/null with O_CLOEXEC). EBADF (closed) leaves it closed.
            // SAFETY: descriptors only, no pointers.
            unsafe { libc::syscall(libc::SYS_fcntl, target, libc::F_SETFD, 0) };
        }
    }
    if !context.cwd.is_null() {
        // SAFETY: a NUL-terminated string the parent owns.
        check(unsafe { libc::syscall(libc::SYS_chdir, context.cwd) })?;
    }
    if context.change_ids {
        // As libuv: drop supplementary groups where permitted (root), and go
        // on where not; the set*id calls below fail then if they must.
        // SAFETY: a count of 0 and no list.
        unsafe { libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) };
    }
    if let Some(gid) = context.gid {
        // SAFETY: an integer argument. The raw call changes this process
        // only (glibc's setgid would signal the parent's threads).
        check(unsafe { libc::syscall(libc::SYS_setgid, gid) })?;
    }
    if let Some(uid) = context.uid {
        // SAFETY: as for setgid.
        check(unsafe { libc::syscall(libc::SYS_setuid, uid) })?;
    }
    if context.parent > 0 {
        // After the set*id calls above: a change of credentials clears it.
        // SAFETY: integer arguments.
        check(unsafe {
            libc::syscall(
                libc::SYS_prctl,
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            )
        })?;
        // The parent may have died before the call: the signal will never
        // come then, and the child has been handed to another parent.
        // SAFETY: no arguments.
        if unsafe { libc::syscall(libc::SYS_getppid) } as i32 != context.parent {
            return Err(libc::ESRCH);
        }
    }
    // Mark every descriptor above stderr close-on-exec, so that one some
    // other library opened without O_CLOEXEC does not leak into the child.
    // Kernels before 5.11 answer EINVAL or ENOSYS; there the O_CLOEXEC every
    // careful library sets is all there is.
    // SAFETY: integers only.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    Err(exec_first(context))
}

/// Moves this process into the cgroup whose directory is `dir`: `0`
/// written to its `cgroup.procs` names the writer.
fn join_cgroup(dir: RawFd) -> Result<(), i32> {
    // SAFETY: a NUL-terminated name, and flags; the descriptor is closed
    // below or by the exec (O_CLOEXEC).
    let procs = unsafe {
        libc::syscall(
            libc::SYS_openat,
            dir,
            c"cgroup.procs".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        )
    };
    check(procs)?;
    // SAFETY: writes one byte from a static string to the descriptor just opened.
    let written = unsafe { libc::syscall(libc::SYS_write, procs, c"0".as_ptr(), 1usize) };
    // SAFETY: closes the descriptor opened above, which nothing else uses.
    unsafe { libc::syscall(libc::SYS_close, procs) };
    check(written)
}

/// Tries each candidate path as `execvp` does, and returns the errno to
/// report: EACCES if any candidate was found but not executable, else the
/// last failure; a failure other than "not here" ends the search at once.
fn exec_first(context: &ChildContext<'_>) -> i32 {
    let mut errno = libc::ENOENT;
    let mut denied = false;
    for &path in context.candidates {
        // SAFETY: `path`, `argv` and `envp` point to NUL-terminated strings
        // and null-terminated arrays the parent owns; execve returns only
        // on failure.
        let failed = unsafe { libc::syscall(libc::SYS_execve, path, context.argv, context.envp) };
        if failed >= 0 {
            continue;
        }
        errno = last_errno();
        if errno == libc::ENOEXEC {
            return exec_script(context, path);
        }
        match errno {
            libc::EACCES => denied = true,
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
            _ => return errno,
        }
    }
    if denied {
        libc::EACCES
    } else {
        errno
    }
}

/// Runs `path`, which the kernel could not execute, with [`SHELL`], as
/// `execvp` does; returns ENOEXEC if that fails too.
fn exec_script(context: &ChildContext<'_>, path: *const c_char) -> i32 {
    // SAFETY: `shell_argv` has at least three slots (shell, script, null),
    // owned by the parent's frame and used by nobody else until the child
    // has exec'd or died; the strings it points to outlive the call, as
    // for `exec_first`.
    unsafe {
        *context.shell_argv.add(1) = path;
        libc::syscall(
            libc::SYS_execve,
            SHELL.as_ptr(),
            context.shell_argv,
            context.envp,
        );
    }
    libc::ENOEXEC
}

fn check(result: c_long) -> Result<(), i32> {
    if result < 0 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

/// The kernel's `struct sigaction` (x86_64 and arm64 alike: both have
/// `sa_restorer`), for the raw call below.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// Gives `signal` its default disposition. The raw system call, because
/// libc's wrappers refuse the signals libc reserves for itself (32 and 33),
/// and those can be inherited ignored too (Rust's test harness ignores 32).
fn reset_signal(signal: c_int) {
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: `default` is a valid kernel sigaction that outlives the call;
    // the old action is not asked for; 8 is the kernel's sigset size.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            signal,
            &default as *const KernelSigaction,
            std::ptr::null_mut::<KernelSigaction>(),
            8usize,
        )
    };
}

/// Sets this thread's signal mask (the kernel's 64-bit set), raw so that
/// libc's reserved signals are included.
fn set_signal_mask(mask: &u64) -> Result<(), i32> {
    // SAFETY: reads 8 bytes from `mask`; the old mask is not asked for.
    check(unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            mask as *const u64,
            std::ptr::null_mut::<u64>(),
            8usize,
        )
    })
}

/// Blocks every signal in this thread and returns the mask it had.
fn block_all_signals() -> u64 {
    let all = u64::MAX;
    let mut previous = 0u64;
    // SAFETY: reads 8 bytes from `all` and writes 8 to `previous`, both
    // locals. Cannot fail with these arguments.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &all as *const u64,
            &mut previous as *mut u64,
            8usize,
        )
    };
    previous
}

fn restore_signals(previous: &u64) {
    let _ = set_signal_mask(previous);
}

/// The pipe through which a child that fails before or at exec tells the
/// parent its errno. Close-on-exec, so a successful exec closes the child's
/// end and the parent reads end-of-file. A pipe rather than shared memory:
/// an emulator that runs CLONE_VM|CLONE_VFORK as a plain fork (qemu-user
/// does) still delivers it.
struct ReportPipe {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl ReportPipe {
    fn new() -> Result<Self, i32> {
        let mut fds = [0 as c_int; 2];
        // SAFETY: writes two descriptor numbers to `fds`.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
            return Err(last_errno());
        }
        // SAFETY: two descriptors the kernel created for us alone.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(Self {
            read,
            write: Some(write),
        })
    }

    fn write_end(&self) -> RawFd {
        use std::os::fd::AsRawFd;
        self.write.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// Closes our write end and reads what the child wrote: `None` on
    /// end-of-file (the child exec'd), else its errno.
    fn read_child_errno(mut self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        drop(self.write.take());
        let mut bytes = [0u8; 4];
        let mut filled = 0;
        while filled < bytes.len() {
            let rest = &mut bytes[filled..];
            // SAFETY: reads at most `rest.len()` bytes into `rest`.
            let n =
                unsafe { libc::read(self.read.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len()) };
            if n < 0 && last_errno() == libc::EINTR {
                continue;
            }
            if n <= 0 {
                break;
            }
            filled += n as usize;
        }
        // A short report cannot come from a child that wrote 4 bytes at
        // once to a pipe (atomic below PIPE_BUF); take it as exec'd.
        (filled == bytes.len()).then(|| i32::from_ne_bytes(bytes))
    }
}

/// The child's stack: an anonymous mapping with a guard page at its low
/// end, unmapped on drop.
struct ChildStack {
    base: *mut c_void,
    len: usize,
}

impl ChildStack {
    fn new() -> Result<Self, i32> {
        let page = 4096 * 16; // covers 4, 16 and 64 KiB pages
        let len = CHILD_STACK + page;
        // SAFETY: a fresh private anonymous mapping; no memory of ours is
        // touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(last_errno());
        }
        let stack = Self { base, len };
        // SAFETY: the lowest `page` bytes of the mapping just made.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } < 0 {
            return Err(last_errno());
        }
        Ok(stack)
    }

    /// The stack's top (it grows down), 16-byte aligned.
    fn top(&self) -> *mut c_void {
        // SAFETY: one past the end of the mapping, which is page aligned.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, no longer used (the child has
        // exec'd or exited before clone returned).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Waits for our own unreaped child `pid` to end and reaps it, so that a
/// failed spawn leaves no zombie: one that failed before exec (it has
/// exited or is about to), or one `spawn` has killed.
pub(crate) fn reap_child(pid: i32) {
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return;
    };
    while let Err(rustix::io::Errno::INTR) =
        rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())
    {}
}
