//! What the kernel knows of a live process, asked through its pidfd:
//! [`PidFd::info`].

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::pidfd::PidFd;
use crate::support;
use crate::sys::pidfd_info::{live_info, LiveInfo};

/// The name errors of the `/proc` fallback carry.
const PROC_CALL: &str = "read /proc/PID/status";

/// The identity, parent, credentials and cgroup of a live process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its PID (in this process's PID namespace).
    pub pid: i32,
    /// Its thread-group ID: equal to `pid` for a process.
    pub tgid: i32,
    /// Its parent's PID (0 if the parent is outside this PID namespace).
    pub ppid: i32,
    /// Real user ID.
    pub uid: u32,
    /// Effective user ID.
    pub euid: u32,
    /// Saved set-user-ID.
    pub suid: u32,
    /// File-system user ID.
    pub fsuid: u32,
    /// Real group ID.
    pub gid: u32,
    /// Effective group ID.
    pub egid: u32,
    /// Saved set-group-ID.
    pub sgid: u32,
    /// File-system group ID.
    pub fsgid: u32,
    /// The ID of its cgroup v2 (the inode number of its directory under
    /// `/sys/fs/cgroup`), when the kernel tells it.
    pub cgroup_id: Option<u64>,
}

impl PidFd {
    /// What the kernel knows of the process while it runs: its PID, parent,
    /// credentials and cgroup. Fails with ESRCH once it has exited, on every
    /// kernel (exited processes keep no credentials worth reporting, and
    /// before 6.13 nothing could vouch for them).
    ///
    /// Linux 6.13+ answers with one `PIDFD_GET_INFO` ioctl. Older kernels
    /// are read from `/proc/PID/status` and `/proc/PID/cgroup`, and the
    /// pidfd is polled after the read: a process still running then is the
    /// one the PID named throughout, since a PID is reused only after its
    /// process has exited and been reaped.
    pub fn info(&self) -> Result<ProcessInfo> {
        if self.has_exited()? {
            let pid = Some(self.pid());
            return Err(if support::PIDFD_GET_INFO.is_absent() {
                Error::new(libc::ESRCH, PROC_CALL, pid)
            } else {
                Error::of(Operation::GetInfo, libc::ESRCH, pid)
            });
        }
        match live_info(self.as_fd()) {
            Ok(live) => Ok(from_live(&live)),
            Err(libc::ENOTTY) => self.info_from_proc(),
            Err(errno) => Err(Error::of(Operation::GetInfo, errno, Some(self.pid()))),
        }
    }

    fn info_from_proc(&self) -> Result<ProcessInfo> {
        let pid = self.pid();
        let gone = || Error::new(libc::ESRCH, PROC_CALL, Some(pid));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| match e
            .raw_os_error()
        {
            Some(libc::ENOENT) | None => gone(),
            Some(errno) => Error::new(errno, PROC_CALL, Some(pid)),
        })?;
        let cgroup_id = cgroup_id_of(pid);
        if self.has_exited()? {
            return Err(gone());
        }
        parse_status(&status, cgroup_id).ok_or_else(|| Error::new(libc::EIO, PROC_CALL, Some(pid)))
    }
}

fn from_live(live: &LiveInfo) -> ProcessInfo {
    let [uid, euid, suid, fsuid] = live.uids;
    let [gid, egid, sgid, fsgid] = live.gids;
    ProcessInfo {
        pid: live.pid,
        tgid: live.tgid,
        ppid: live.ppid,
        uid,
        euid,
        suid,
        fsuid,
        gid,
        egid,
        sgid,
        fsgid,
        cgroup_id: live.cgroup_id,
    }
}

/// The fields of `/proc/PID/status` that [`ProcessInfo`] has, read into
/// the shape `PIDFD_GET_INFO` gives them.
fn parse_status(status: &str, cgroup_id: Option<u64>) -> Option<ProcessInfo> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let number = |name: &str| field(name)?.parse::<i32>().ok();
    let four = |name: &str| -> Option<[u32; 4]> {
        let mut values = field(name)?
            .split_whitespace()
            .map(|v| v.parse::<u32>().ok());
        Some([
            values.next()??,
            values.next()??,
            values.next()??,
            values.next()??,
        ])
    };
    Some(from_live(&LiveInfo {
        pid: number("Pid")?,
        tgid: number("Tgid")?,
        ppid: number("PPid")?,
        uids: four("Uid")?,
        gids: four("Gid")?,
        cgroup_id,
    }))
}

/// `CGROUP2_SUPER_MAGIC` from `<linux/magic.h>`.
const CGROUP2_MAGIC: i64 = 0x6367_7270;

/// The cgroup v2 ID of process `pid`, as the kernel computes it: the
/// inode number of its cgroup's directory (`0::/path` in /proc/PID/cgroup),
/// where the cgroup v2 hierarchy is mounted at `/sys/fs/cgroup`.
fn cgroup_id_of(pid: i32) -> Option<u64> {
    let root = rustix::fs::statfs("/sys/fs/cgroup").ok()?;
    if root.f_type as i64 != CGROUP2_MAGIC {
        return None;
    }
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path = cgroups.lines().find_map(|line| line.strip_prefix("0::"))?;
    let dir = format!("/sys/fs/cgroup{}", path.trim_end());
    std::fs::metadata(dir).ok().map(|m| m.ino())
}

#[cfg(test)]
mod tests {
    use super::parse_status;

    #[test]
    fn status_fields_are_read_by_name() {
        let status =
            "Name:\tsleep\nTgid:\t42\nPid:\t42\nPPid:\t7\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n";
        let info = parse_status(status, Some(9)).expect("parsed");
        assert_eq!((info.pid, info.tgid, info.ppid), (42, 42, 7));
        assert_eq!((info.uid, info.euid, info.suid, info.fsuid), (1, 2, 3, 4));
        assert_eq!((info.gid, info.egid, info.sgid, info.fsgid), (5, 6, 7, 8));
        assert_eq!(info.cgroup_id, Some(9));
        assert!(parse_status("Pid:\t1\n", None).is_none());
    }
}
