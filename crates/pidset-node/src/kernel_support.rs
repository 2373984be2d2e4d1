//! The running kernel's pidfd features, for `kernelSupport()`: the core's
//! `pidset::KernelSupport` as a Node-API object (the core does not depend on
//! Node-API); the conversion names every field, so the two cannot drift.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::syscall_error;

/// The pidfd features of the running kernel, probed by trying each (not read
/// from the version string, which says nothing of backports or of a seccomp
/// sandbox). What they mean for users is in README's kernel table.
#[napi(object, object_from_js = false)]
pub struct KernelSupport {
    /// `pidfd_open` (Linux 5.3): without it, `PidFd.open` throws `ENOSYS`.
    pub pidfd_open: bool,
    /// `waitid(P_PIDFD)` (5.4): the exit status and resource usage of our own children.
    pub waitid_pidfd: bool,
    /// `PIDFD_NONBLOCK` (5.10).
    pub nonblock: bool,
    /// The `PIDFD_GET_INFO` ioctl (6.13).
    pub get_info: bool,
    /// `PIDFD_INFO_EXIT` (6.15): the exit status of any process, kept after its
    /// parent reaps it. Without it, the status of a process reaped by someone
    /// else first (a `child_process` child that libuv reaped, a process that is
    /// not ours) can be `null`.
    pub exit_info: bool,
    /// `pidfd_getfd` (5.6): `pidfd.getFd()`.
    pub get_fd: bool,
    /// `SO_PEERPIDFD` (6.5): `peerPidFd()`.
    pub peer_pidfd: bool,
    /// pidfs (6.9): `pidfd.id`, and `equals()` exact after an exit.
    pub pidfs: bool,
    /// `PIDFD_SIGNAL_*` (6.9): `kill(signal, { scope })` other than `'process'`.
    pub signal_scope: bool,
    /// `PIDFD_GET_*_NAMESPACE` (6.11): `pidfd.namespace()`.
    pub namespaces: bool,
    /// `PIDFD_INFO_SUPPORTED_MASK` (after 6.18; 7.3 has it): the kernel lists
    /// what `PIDFD_GET_INFO` answers, so `getInfo` and `exitInfo` are read
    /// from that list rather than found by starting and reaping a child.
    pub supported_mask: bool,
}

impl From<pidset::KernelSupport> for KernelSupport {
    fn from(k: pidset::KernelSupport) -> Self {
        // Destructured without `..`: a field added to the core's record does
        // not compile until it is here too.
        let pidset::KernelSupport {
            pidfd_open,
            waitid_pidfd,
            nonblock,
            get_info,
            exit_info,
            get_fd,
            peer_pidfd,
            pidfs,
            signal_scope,
            namespaces,
            supported_mask,
        } = k;
        Self {
            pidfd_open,
            waitid_pidfd,
            nonblock,
            get_info,
            exit_info,
            get_fd,
            peer_pidfd,
            pidfs,
            signal_scope,
            namespaces,
            supported_mask,
        }
    }
}

/// Probes the running kernel (before 7.x it forks and reaps one short-lived
/// child).
#[napi]
pub fn probe_kernel_support(env: Env) -> Result<KernelSupport> {
    pidset::kernel_support()
        .map(KernelSupport::from)
        .map_err(|e| syscall_error(&env, &e))
}
