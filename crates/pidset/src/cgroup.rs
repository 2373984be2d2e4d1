//! Containment in a cgroup (v2) of a child's own: the one boundary a
//! process cannot leave by itself. `setsid`, double forks and reparenting
//! all keep a process in its cgroup, so killing the cgroup kills the whole
//! tree, as systemd stops a service.
//!
//! The child joins its cgroup in the window between clone and exec (see
//! `sys/clone_exec.rs`), before any code of its own runs: everything it
//! ever forks starts inside. That works on every kernel with cgroup v2,
//! where `CLONE_INTO_CGROUP` (5.7) would need `clone3` and a hand-written
//! stack switch for the same guarantee.

use std::fs;
use std::io::ErrorKind;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};

use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::pidfd::PidFd;

/// How long a freeze may take to complete before signalling goes ahead
/// anyway (a task in an uninterruptible sleep freezes when it leaves it).
const FREEZE_PATIENCE: Duration = Duration::from_secs(1);

/// A cgroup created for one child, with a directory descriptor that the
/// child uses to join it. Removed by [`Cgroup::remove`] once empty; a
/// cgroup that still has processes cannot be removed, and stays.
#[derive(Debug)]
pub struct Cgroup {
    dir: OwnedFd,
    path: PathBuf,
}

impl Cgroup {
    /// Creates a new cgroup under `parent`, a directory of the cgroup v2
    /// hierarchy (one delegated to this user, say), or by default under
    /// this process's own cgroup, found from `/proc/self/cgroup` and
    /// `/proc/self/mountinfo`.
    ///
    /// Fails with the [`Operation::Cgroup`] error of what stood in the way:
    /// `ENOENT` without a cgroup v2 hierarchy, `EACCES`/`EPERM`/`EROFS`
    /// where this process may not create or join one there.
    pub fn create(parent: Option<&Path>) -> Result<Self> {
        let fail = |errno| Error::of(Operation::Cgroup, errno, None);
        let parent = match parent {
            Some(parent) => parent.to_path_buf(),
            None => own_cgroup_dir().ok_or_else(|| fail(libc::ENOENT))?,
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "pidset-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = parent.join(name);
        fs::create_dir(&path).map_err(|e| fail(errno_of(&e)))?;
        let opened = rustix::fs::open(
            &path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        );
        let dir = match opened {
            Ok(dir) => dir,
            Err(e) => {
                let _ = fs::remove_dir(&path);
                return Err(fail(e.raw_os_error()));
            }
        };
        let cgroup = Self { dir, path };
        // The child joins by writing to cgroup.procs: a cgroup this process
        // may create but not join (no delegation of its parent's
        // cgroup.procs) is found now, before anything starts.
        if let Err(e) = rustix::fs::accessat(
            cgroup.dir.as_fd(),
            "cgroup.procs",
            rustix::fs::Access::WRITE_OK,
            rustix::fs::AtFlags::empty(),
        ) {
            let _ = cgroup.remove();
            return Err(fail(e.raw_os_error()));
        }
        Ok(cgroup)
    }

    /// Its directory in the cgroup hierarchy.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory descriptor a child joins through.
    pub(crate) fn dir_fd(&self) -> RawFd {
        self.dir.as_raw_fd()
    }

    /// Whether any process is in it (`populated` in `cgroup.events`).
    pub fn is_populated(&self) -> Result<bool> {
        Ok(self.events()?.lines().any(|line| line == "populated 1"))
    }

    /// A handle for every process in it now, each verified after it was
    /// opened to be in this cgroup (never a process that reused a listed
    /// PID). A cgroup whose processes are being killed only loses members.
    pub fn members(&self) -> Result<Vec<PidFd>> {
        let listed = self.read("cgroup.procs")?;
        let mut members = Vec::new();
        for pid in listed.lines().filter_map(|line| line.parse::<i32>().ok()) {
            let pidfd = match PidFd::open(pid) {
                Ok(pidfd) => pidfd,
                Err(err) if err.errno() == libc::ESRCH => continue,
                Err(err) => return Err(err),
            };
            if self.holds(pid) && !pidfd.has_exited()? {
                members.push(pidfd);
            }
        }
        Ok(members)
    }

    /// Kills every process in it: one write to `cgroup.kill` (Linux 5.14),
    /// which the kernel applies to every task as one, forks in flight
    /// included. Older kernels: frozen, every member SIGKILLed through a
    /// pidfd, thawed (see [`Cgroup::signal`]).
    pub fn kill(&self) -> Result<()> {
        match self.write("cgroup.kill", "1") {
            Err(err) if err.errno() == libc::ENOENT => self.signal(libc::SIGKILL).map(drop),
            other => other,
        }
    }

    /// Sends `signal` to every process in it: the cgroup is frozen first
    /// (`cgroup.freeze`, Linux 5.2), so nothing forks or leaves while its
    /// members are listed and signalled, then thawed. Returns how many
    /// were signalled.
    pub fn signal(&self, signal: i32) -> Result<usize> {
        self.set_frozen(true)?;
        let sent = self.members().map(|members| {
            members
                .iter()
                .filter(|member| member.send_signal(signal).unwrap_or(false))
                .count()
        });
        // Thawed whatever happened: a frozen tree must not be left behind.
        let thawed = self.set_frozen(false);
        let sent = sent?;
        thawed?;
        Ok(sent)
    }

    /// Removes the cgroup; fails with `EBUSY` while processes are in it.
    pub fn remove(&self) -> Result<()> {
        fs::remove_dir(&self.path).map_err(|e| Error::of(Operation::Cgroup, errno_of(&e), None))
    }

    fn set_frozen(&self, frozen: bool) -> Result<()> {
        self.write("cgroup.freeze", if frozen { "1" } else { "0" })?;
        if !frozen {
            return Ok(());
        }
        // The freeze completes asynchronously: `frozen 1` once every task is.
        let deadline = Instant::now() + FREEZE_PATIENCE;
        while !self.events()?.lines().any(|line| line == "frozen 1") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
        Ok(())
    }

    /// Whether `pid` is in this cgroup, as its `/proc/<pid>/cgroup` says.
    fn holds(&self, pid: i32) -> bool {
        let Some(mine) = self.relative_path() else {
            return false;
        };
        fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .ok()
            .and_then(|text| unified_path(&text).map(|path| path == mine))
            .unwrap_or(false)
    }

    /// Its path as `/proc/<pid>/cgroup` names it (from the hierarchy's root).
    fn relative_path(&self) -> Option<String> {
        let (mount, _) = cgroup2_mount()?;
        let relative = self.path.strip_prefix(mount).ok()?;
        Some(format!("/{}", relative.display()))
    }

    fn events(&self) -> Result<String> {
        self.read("cgroup.events")
    }

    fn read(&self, file: &str) -> Result<String> {
        fs::read_to_string(self.path.join(file))
            .map_err(|e| Error::of(Operation::Cgroup, errno_of(&e), None))
    }

    /// Writes `value` to an existing control file (never creates one: a
    /// file this kernel lacks is `ENOENT`).
    fn write(&self, file: &str, value: &str) -> Result<()> {
        use std::io::Write;
        fs::OpenOptions::new()
            .write(true)
            .open(self.path.join(file))
            .and_then(|mut f| f.write_all(value.as_bytes()))
            .map_err(|e| Error::of(Operation::Cgroup, errno_of(&e), None))
    }
}

fn errno_of(err: &std::io::Error) -> i32 {
    err.raw_os_error().unwrap_or(match err.kind() {
        ErrorKind::NotFound => libc::ENOENT,
        _ => libc::EIO,
    })
}

/// This process's cgroup directory in the v2 hierarchy, if there is one.
fn own_cgroup_dir() -> Option<PathBuf> {
    let (mount, root) = cgroup2_mount()?;
    let own = unified_path(&fs::read_to_string("/proc/self/cgroup").ok()?)?;
    let below_root = Path::new(&own).strip_prefix(&root).ok()?;
    Some(mount.join(below_root))
}

/// The path of the v2 hierarchy in a `/proc/<pid>/cgroup` text: the
/// `0::/path` line.
fn unified_path(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(str::to_owned)
}

/// Where the cgroup v2 hierarchy is mounted, and which of its directories
/// is the mount's root, from `/proc/self/mountinfo` (`/sys/fs/cgroup` on
/// most systems, `/sys/fs/cgroup/unified` on hybrid ones).
fn cgroup2_mount() -> Option<(PathBuf, PathBuf)> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mountinfo.lines().find_map(|line| {
        let (fields, after) = line.split_once(" - ")?;
        if after.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mut fields = fields.split_whitespace();
        let root = fields.nth(3)?;
        let mount = fields.next()?;
        Some((
            PathBuf::from(unescape(mount)),
            PathBuf::from(unescape(root)),
        ))
    })
}

/// A mountinfo path with its octal escapes (`\040` for a space) decoded.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unified_line_is_the_one_with_hierarchy_zero() {
        let text = "12:pids:/user.slice\n0::/user.slice/session-1.scope\n1:name=systemd:/x\n";
        assert_eq!(
            unified_path(text).as_deref(),
            Some("/user.slice/session-1.scope")
        );
        assert_eq!(unified_path("3:cpu:/\n"), None);
    }

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape(r"/mnt/with\040space"), "/mnt/with space");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/tail\04"), r"/tail\04");
    }
}
