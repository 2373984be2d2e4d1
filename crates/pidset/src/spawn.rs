//! Starting a child that this library owns. Its pidfd is opened while the
//! child cannot have been reaped by anyone (only its parent, this process,
//! can reap it, and nothing here has), so the handle is race-free from the
//! child's first instruction; and since only [`PidFd::reap`] reaps it, its
//! exit status and resource usage are always there to be read.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};

use crate::cgroup::Cgroup;
use crate::error::{Error, Result};
use crate::inherited_rss;
use crate::owned_child::OwnedChild;
use crate::pidfd::PidFd;
use crate::sys::clone_exec::{clone_exec, reap_child, Program};
use crate::sys::dup_fd::dup_at_least;

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
    /// Whether the child is SIGKILLed when the thread that spawned it ends,
    /// however it ends (`PR_SET_PDEATHSIG`). A thread: in a process whose
    /// threads spawn, the child dies with the thread that spawned it.
    pub kill_on_parent_exit: bool,
    /// A cgroup (v2) the child joins before it runs any code of its own.
    pub cgroup: Option<std::sync::Arc<Cgroup>>,
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
            kill_on_parent_exit: false,
            cgroup: None,
        }
    }
}

/// A started child: its handle and the parent's ends of its piped streams.
#[derive(Debug)]
pub struct Child {
    /// The child, to be reaped with [`OwnedChild::reap`] once it has exited
    /// (or handed to [`OwnedChild::orphan`]), or it stays a zombie.
    pub pidfd: OwnedChild,
    /// Where to write the child's stdin, if piped.
    pub stdin: Option<OwnedFd>,
    /// Where to read the child's stdout, if piped.
    pub stdout: Option<OwnedFd>,
    /// Where to read the child's stderr, if piped.
    pub stderr: Option<OwnedFd>,
}

/// Starts a child as `options` say.
///
/// The child starts clean: every descriptor but its three streams is closed
/// on exec (Linux 5.11+ marks them all, so even one some other library
/// opened without `O_CLOEXEC` does not leak; older kernels rely on the
/// flag), every signal has its default disposition (Node ignores SIGPIPE;
/// the child must not) and none is blocked.
///
/// The child is created with `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)`,
/// as `posix_spawn` does: no page tables are copied, so starting it costs
/// the same however large this process is, and its pidfd comes with it.
/// A program named without a `/` is looked up in the `PATH` of the child's
/// environment (default `/usr/bin:/bin`), as libuv does.
///
/// Fails with the errno of what failed, `syscall` `"spawn"`: `ENOENT` (no
/// such program or working directory), `EACCES`, `ENOTDIR`, `EMFILE`...
pub fn spawn(options: &SpawnOptions) -> Result<Child> {
    let failed = |errno| Error::new(errno, "spawn", None);
    let [stdin, stdout, stderr] = &options.stdio;
    let (child_in, parent_in) = stream(*stdin)?;
    let (child_out, parent_out) = stream(*stdout)?;
    let (child_err, parent_err) = stream(*stderr)?;
    // Borrowed when given (the binding always gives it): no copy per spawn.
    let inherited: Vec<(OsString, OsString)>;
    let env = match &options.env {
        Some(env) => env.as_slice(),
        None => {
            inherited = std::env::vars_os().collect();
            &inherited
        }
    };
    let argv0 = options.argv0.as_ref().unwrap_or(&options.program);
    let program = Program {
        candidates: candidates(&options.program, env)?,
        argv: std::iter::once(argv0)
            .chain(&options.args)
            .map(|a| c_string(a))
            .collect::<Result<_>>()?,
        envp: env
            .iter()
            .map(|(name, value)| {
                let mut entry = name.clone();
                entry.push("=");
                entry.push(value);
                c_string(&entry)
            })
            .collect::<Result<_>>()?,
        cwd: options
            .cwd
            .as_ref()
            .map(|cwd| c_string(cwd.as_os_str()))
            .transpose()?,
        stdio: [&child_in, &child_out, &child_err].map(|fd| fd.as_ref().map(AsRawFd::as_raw_fd)),
        new_session: options.new_session,
        uid: options.uid,
        gid: options.gid,
        kill_on_parent_exit: options.kill_on_parent_exit,
        cgroup: options.cgroup.as_ref().map(|cgroup| cgroup.dir_fd()),
    };
    let started = clone_exec(&program).map_err(failed)?;
    // The parent keeps only its own ends (EOF works both ways).
    drop((child_in, child_out, child_err));
    let pidfd = match started.pidfd {
        Some(fd) => PidFd::from_owned(fd, started.pid),
        // A kernel without CLONE_PIDFD: nothing reaps our children behind
        // our back (libuv waits for its own PIDs only), so until we reap it
        // this PID is the child's.
        None => PidFd::open(started.pid).inspect_err(|_| abandon(started.pid))?,
    };
    // After the exec, as late as can be: our peak only grows.
    inherited_rss::record(started.pid);
    Ok(Child {
        pidfd: OwnedChild::new(pidfd),
        stdin: parent_in,
        stdout: parent_out,
        stderr: parent_err,
    })
}

/// The paths `execve` tries for `program`: itself if it has a `/`, else
/// each directory of the environment's `PATH` in turn (an empty entry is
/// the working directory, as for `execvp`).
fn candidates(program: &OsStr, env: &[(OsString, OsString)]) -> Result<Vec<CString>> {
    let name = program.as_bytes();
    if name.is_empty() {
        return Err(Error::new(libc::ENOENT, "spawn", None));
    }
    if name.contains(&b'/') {
        return Ok(vec![c_string(program)?]);
    }
    let path = env
        .iter()
        .rev()
        .find(|(key, _)| key == "PATH")
        .map_or(&b"/usr/bin:/bin"[..], |(_, value)| value.as_bytes());
    path.split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let mut full = Vec::with_capacity(dir.len() + 1 + name.len());
            full.extend_from_slice(dir);
            full.push(b'/');
            full.extend_from_slice(name);
            CString::new(full).map_err(|_| Error::new(libc::EINVAL, "spawn", None))
        })
        .collect()
}

/// `s` as a C string; EINVAL if it holds a NUL byte.
fn c_string(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| Error::new(libc::EINVAL, "spawn", None))
}

/// The child's side of one stream (`None`: the parent's own), numbered 3
/// or above, and the parent's end if piped.
fn stream(stdio: Stdio) -> Result<(Option<OwnedFd>, Option<OwnedFd>)> {
    Ok(match stdio {
        Stdio::Inherit => (None, None),
        Stdio::Null => {
            let null = rustix::fs::open(
                c"/dev/null",
                rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| Error::new(e.raw_os_error(), "open", None))?;
            (Some(above_stdio(null)?), None)
        }
        Stdio::Pipe => {
            let (parent, child) = socketpair(
                AddressFamily::UNIX,
                SocketType::STREAM,
                SocketFlags::CLOEXEC,
                None,
            )
            .map_err(|e| Error::new(e.raw_os_error(), "socketpair", None))?;
            (Some(above_stdio(child)?), Some(parent))
        }
        Stdio::Fd(fd) => (Some(duplicate(fd)?), None),
    })
}

/// `fd` itself if it is numbered 3 or above, else a duplicate that is: the
/// child puts its streams in place one after the other, and a source
/// numbered 0 to 2 could be overwritten before it is read (a parent whose
/// own stdin is closed gets descriptor 0 back from `socketpair`).
fn above_stdio(fd: OwnedFd) -> Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        Ok(fd)
    } else {
        duplicate(fd.as_raw_fd())
    }
}

/// A close-on-exec duplicate of `fd` numbered 3 or above; `fd` need not be
/// open (EBADF).
fn duplicate(fd: RawFd) -> Result<OwnedFd> {
    dup_at_least(fd, 3).map_err(|errno| Error::new(errno, "dup", None))
}

/// Kills and reaps a child we could not get a handle to, so that a failed
/// spawn leaves no process behind. It is our unreaped child, so its PID
/// cannot have been reused.
fn abandon(pid: i32) {
    if let Some(child) = rustix::process::Pid::from_raw(pid) {
        // It can only fail for a process that is gone, which the reap below
        // then finds.
        let _ = rustix::process::kill_process(child, rustix::process::Signal::KILL);
    }
    reap_child(pid);
}
