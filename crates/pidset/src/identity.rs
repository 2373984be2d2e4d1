//! Which process a pidfd names, as a value: [`PidFd::id`] and
//! [`PidFd::same_process`].

use std::os::fd::AsRawFd;

use rustix::fs::{fstat, fstatfs};

use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::pidfd::PidFd;
use crate::support;

/// `PIDFS_MAGIC` from `<linux/magic.h>`: the file system of pidfds from
/// Linux 6.9 on, where each process has an inode of its own.
const PIDFS_MAGIC: i64 = 0x5049_4446;

impl PidFd {
    /// A number that names the process and no other for as long as the
    /// system runs: its pidfs inode number (Linux 6.9+), the same for every
    /// pidfd of the process, never given to another process (it is 64-bit
    /// and only ever counts up). Before 6.9 pidfds share one anonymous
    /// inode, and this fails with ENOSYS.
    pub fn id(&self) -> Result<u64> {
        if !self.is_on_pidfs()? {
            return Err(Error::of(
                Operation::Identity,
                libc::ENOSYS,
                Some(self.pid()),
            ));
        }
        let stat = fstat(self).map_err(|e| Error::from_rustix(e, "fstat", self.pid()))?;
        Ok(stat.st_ino)
    }

    /// Whether `other` is a handle to the same process, whether or not it
    /// was opened the same way. From Linux 6.9 this compares [`PidFd::id`]s
    /// and is exact. Before, two handles with one PID name the same process
    /// while it has not exited (a PID belongs to one process at a time); once
    /// it has, nothing tells, and only a handle is known to be the same as
    /// itself (the same descriptor): a stricter answer, never a wrong `true`.
    pub fn same_process(&self, other: &PidFd) -> Result<bool> {
        if self.is_on_pidfs()? {
            return Ok(self.id()? == other.id()?);
        }
        if self.pid() != other.pid() {
            return Ok(false);
        }
        if !self.has_exited()? && !other.has_exited()? {
            // Both were running after the PID was read: the same process.
            return Ok(true);
        }
        Ok(self.as_raw_fd() == other.as_raw_fd())
    }

    /// Whether pidfds live on pidfs (Linux 6.9+), learned once.
    fn is_on_pidfs(&self) -> Result<bool> {
        if support::PIDFS.is_present() {
            return Ok(true);
        }
        if support::PIDFS.is_absent() {
            return Ok(false);
        }
        let fs = fstatfs(self).map_err(|e| Error::from_rustix(e, "fstatfs", self.pid()))?;
        let on_pidfs = fs.f_type as i64 == PIDFS_MAGIC;
        support::PIDFS.set(on_pidfs);
        Ok(on_pidfs)
    }
}
