//! Starting a child that this library owns. Its pidfd is opened while the
//! child cannot have been reaped by anyone (only its parent, this process,
//! can reap it, and nothing here has), so the handle is race-free from the
//! child's first instruction; and since only [`PidFd::reap`] reaps it, its
//! exit status and resource usage are always there to be read.

use std::ffi::OsString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};

use crate::error::{Error, Result};
use crate::pidfd::PidFd;

/// How one of the child's standard streams is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// The parent's own stream.
    Inherit,
    /// `/dev/null`.
    Null,
    /// A new connected pair of Unix stream sockets, as Node's `child_process`
    /// uses: the child gets one end, [`Child`] the other. A socket rather
    /// than a pipe so that the parent can end its side with `shutdown`.
    Pipe,
    /// A descriptor of the parent's, duplicated into place.
    Fd(RawFd),
}

/// What to start and how.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    /// The program: a path, or a name looked up in the `PATH` of `env`.
    pub program: OsString,
    /// Its arguments, after `argv[0]`.
    pub args: Vec<OsString>,
    /// `argv[0]`; the program as given when `None`.
    pub argv0: Option<OsString>,
    /// The whole environment; this process's when `None`.
    pub env: Option<Vec<(OsString, OsString)>>,
    /// The working directory; this process's when `None`.
    pub cwd: Option<PathBuf>,
    /// stdin, stdout and stderr.
    pub stdio: [Stdio; 3],
    /// Whether the child leads a new session (`setsid`), as Node's `detached`.
    pub new_session: bool,
    /// The user to run as (`setuid`; supplementary groups are dropped).
    pub uid: Option<u32>,
    /// The group to run as (`setgid`).
    pub gid: Option<u32>,
}

impl SpawnOptions {
    /// Options to run `program` with no arguments, inheriting everything.
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            argv0: None,
            env: None,
            cwd: None,
            stdio: [Stdio::Inherit; 3],
            new_session: false,
            uid: None,
            gid: None,
        }
    }
}

/// A started child: its handle and the parent's ends of its piped streams.
#[derive(Debug)]
pub struct Child {
    /// The child's pidfd. Reap the child with [`PidFd::reap`] once it has
    /// exited, or it stays a zombie.
    pub pidfd: PidFd,
    /// Where to write the child's stdin, if piped.
    pub stdin: Option<OwnedFd>,
    /// Where to read the child's stdout, if piped.
    pub stdout: Option<OwnedFd>,
    /// Where to read the child's stderr, if piped.
    pub stderr: Option<OwnedFd>,
}

impl Child {
    /// Kills and reaps a child whose caller cannot go on (it could not get a
    /// second descriptor, say), so that nothing is left behind. Blocks until
    /// the child is gone, which SIGKILL makes a matter of milliseconds.
    pub fn discard(pidfd: &PidFd) {
        let _ = pidfd.send_signal(libc::SIGKILL);
        if pidfd.wait(None).is_ok() {
            let _ = pidfd.reap();
        }
    }
}

/// Starts a child as `options` say.
///
/// The child starts clean: every descriptor but its three streams is closed
/// on exec (Linux 5.11+ marks them all, so even one some other library
/// opened without `O_CLOEXEC` does not leak; older kernels rely on the
/// flag), every signal has its default disposition (Node ignores SIGPIPE;
/// the child must not) and none is blocked.
///
/// Fails with the errno of what failed, `syscall` `"spawn"`: `ENOENT` (no
/// such program or working directory), `EACCES`, `ENOTDIR`, `EMFILE`...
pub fn spawn(options: &SpawnOptions) -> Result<Child> {
    let mut command = Command::new(&options.program);
    command.args(&options.args);
    if let Some(argv0) = &options.argv0 {
        command.arg0(argv0);
    }
    if let Some(env) = &options.env {
        command.env_clear();
        command.envs(env.iter().map(|(k, v)| (k, v)));
    }
    if let Some(cwd) = &options.cwd {
        command.current_dir(cwd);
    }
    if let Some(uid) = options.uid {
        command.uid(uid);
    }
    if let Some(gid) = options.gid {
        command.gid(gid);
    }
    let [stdin, stdout, stderr] = &options.stdio;
    let (child_in, parent_in) = stream(*stdin)?;
    let (child_out, parent_out) = stream(*stdout)?;
    let (child_err, parent_err) = stream(*stderr)?;
    command.stdin(child_in).stdout(child_out).stderr(child_err);
    let new_session = options.new_session;
    // SAFETY: the closure runs in the forked child before exec and calls
    // only async-signal-safe functions (sigaction, sigprocmask, setsid,
    // fcntl, close_range), touching no memory the parent's other threads own.
    unsafe {
        command.pre_exec(move || start_clean(new_session));
    }
    let started = command
        .spawn()
        .map_err(|e| Error::new(e.raw_os_error().unwrap_or(libc::EINVAL), "spawn", None))?;
    // The child's ends were moved into `command`; drop them with it, so that
    // the parent holds only its own ends (EOF works both ways).
    drop(command);
    let pid = started.id() as i32;
    // Nothing reaps our children behind our back (libuv waits for its own
    // PIDs only), so until we reap it this PID is the child's.
    let pidfd = match PidFd::open(pid) {
        Ok(pidfd) => pidfd,
        Err(err) => {
            abandon(pid);
            return Err(err);
        }
    };
    // Dropping std's handle neither kills nor reaps.
    drop(started);
    Ok(Child {
        pidfd,
        stdin: parent_in,
        stdout: parent_out,
        stderr: parent_err,
    })
}

/// The child's side of one stream for std, and the parent's end if piped.
fn stream(stdio: Stdio) -> Result<(std::process::Stdio, Option<OwnedFd>)> {
    Ok(match stdio {
        Stdio::Inherit => (std::process::Stdio::inherit(), None),
        Stdio::Null => (std::process::Stdio::null(), None),
        Stdio::Pipe => {
            let (parent, child) = socketpair(
                AddressFamily::UNIX,
                SocketType::STREAM,
                SocketFlags::CLOEXEC,
                None,
            )
            .map_err(|e| Error::new(e.raw_os_error(), "socketpair", None))?;
            (std::process::Stdio::from(child), Some(parent))
        }
        Stdio::Fd(fd) => (std::process::Stdio::from(duplicate(fd)?), None),
    })
}

/// A close-on-exec duplicate of `fd`, which need not be open (EBADF).
fn duplicate(fd: RawFd) -> Result<OwnedFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) reads no memory of ours; for a number
    // that is not an open descriptor it fails with EBADF.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if dup < 0 {
        return Err(Error::new(crate::sys::last_errno(), "dup", None));
    }
    // SAFETY: `dup` is a descriptor the kernel just created for us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}

/// In the child, between fork and exec: see [`spawn`].
fn start_clean(new_session: bool) -> std::io::Result<()> {
    const SIGRTMAX: libc::c_int = 64;
    for signal in 1..=SIGRTMAX {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            reset_signal(signal);
        }
    }
    // SAFETY: an empty set, initialised by sigemptyset before use.
    unsafe {
        let mut none = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
    if new_session {
        // SAFETY: no arguments; fails only if already a group leader, which
        // a freshly forked child is not.
        if unsafe { libc::setsid() } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    // The three streams survive exec whatever their flag: an inherited one
    // may be close-on-exec in the parent (Node reopens a closed stdin as
    // /dev/null with O_CLOEXEC), and std does not touch inherited ones.
    for fd in 0..3 {
        // SAFETY: fcntl on a number takes no pointers; EBADF if not open.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }
    // CLOSE_RANGE_CLOEXEC (Linux 5.11): mark every descriptor above stderr
    // close-on-exec. Older kernels answer EINVAL or ENOSYS; there the
    // O_CLOEXEC every careful library sets is all there is.
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range takes no pointers.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    Ok(())
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
fn reset_signal(signal: libc::c_int) {
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

/// Kills and reaps a child we could not get a handle to, so that a failed
/// spawn leaves no process behind. It is our unreaped child, so its PID
/// cannot have been reused.
fn abandon(pid: i32) {
    // SAFETY: kill and waitpid on our own unreaped child; the status is
    // written to a local.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut status = 0;
        while libc::waitpid(pid, &mut status, 0) < 0 && crate::sys::last_errno() == libc::EINTR {}
    }
}
