//! What the kernel knows of a running process, for `pidfd.info()`: the
//! core's `pidset::ProcessInfo` in JavaScript's shape (a `bigint` or `null`
//! cgroup ID). The core does not depend on Node-API, so the record is
//! declared again here; the conversion names every field, so the two
//! cannot drift apart unnoticed.

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// What the kernel knows of a running process: `pidfd.info()`.
#[napi(object, object_from_js = false)]
pub struct ProcessInfo {
    /// Its PID, in this process's PID namespace.
    pub pid: i32,
    /// Its thread-group ID: the same as `pid` for a process.
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
    /// The ID of its cgroup (v2): the inode number of its directory under
    /// `/sys/fs/cgroup`, as `bigint`; null where the kernel does not say.
    pub cgroup_id: Either<BigInt, Null>,
}

impl From<pidset::ProcessInfo> for ProcessInfo {
    fn from(info: pidset::ProcessInfo) -> Self {
        // Destructured without `..`: a field added to the core's record does
        // not compile until it is here too.
        let pidset::ProcessInfo {
            pid,
            tgid,
            ppid,
            uid,
            euid,
            suid,
            fsuid,
            gid,
            egid,
            sgid,
            fsgid,
            cgroup_id,
        } = info;
        Self {
            pid,
            tgid,
            ppid,
            uid,
            euid,
            suid,
            fsuid,
            gid,
            egid,
            sgid,
            fsgid,
            // JavaScript's idiom for "not known" here is null, not a missing field.
            cgroup_id: match cgroup_id {
                Some(id) => Either::A(BigInt::from(id)),
                None => Either::B(Null),
            },
        }
    }
}
