use std::os::fd::{AsRawFd, BorrowedFd};

use crate::exit_info::ExitStatus;
use crate::support;

/// The first version of `struct pidfd_info` (Linux 6.13), 64 bytes. The
/// ioctl is extensible: the kernel fills in what fits the size encoded in
/// the request number, so the smallest layout works on every kernel that has
/// the call, and `exit_code` (the former `spare0`) is filled in from 6.15.
#[repr(C)]
#[derive(Default)]
struct PidfdInfo {
    mask: u64,
    cgroupid: u64,
    pid: u32,
    tgid: u32,
    ppid: u32,
    ruid: u32,
    rgid: u32,
    euid: u32,
    egid: u32,
    suid: u32,
    sgid: u32,
    fsuid: u32,
    fsgid: u32,
    exit_code: i32,
}

const _: () = assert!(std::mem::size_of::<PidfdInfo>() == 64);

/// `struct pidfd_info` as far as `supported_mask` (88 bytes): the first
/// version, the core-dump fields (Linux 6.16 on) and the mask of the flags
/// the kernel supports (after 6.18). Measured on 7.3: with 80 bytes the
/// kernel sets PIDFD_INFO_SUPPORTED_MASK in the reply but has no room for
/// the field, which then reads 0.
#[repr(C)]
#[derive(Default)]
struct PidfdInfoWithSupported {
    first: PidfdInfo,
    /// `coredump_mask`, `coredump_signal`, `coredump_code` and padding:
    /// filled in only when asked for, which pidset does not do
    /// (`ExitInfo.coreDumped` comes from the status word, on every kernel).
    _coredump: [u32; 4],
    supported_mask: u64,
}

const _: () = assert!(std::mem::size_of::<PidfdInfoWithSupported>() == 88);

/// A published size of `struct pidfd_info`. The request number encodes the
/// size, so each layout has its own, computed from the layout itself: the
/// kernel can never be told a size other than the buffer's.
trait InfoLayout: Default {
    /// `_IOWR(0xFF, 11, Self)`.
    const REQUEST: libc::c_ulong =
        (3 << 30) | ((std::mem::size_of::<Self>() as libc::c_ulong) << 16) | (0xFF << 8) | 11;
    /// The `mask` field, which the caller fills with what it asks for and
    /// the kernel with what it answered.
    fn mask(&mut self) -> &mut u64;
}

impl InfoLayout for PidfdInfo {
    fn mask(&mut self) -> &mut u64 {
        &mut self.mask
    }
}

impl InfoLayout for PidfdInfoWithSupported {
    fn mask(&mut self) -> &mut u64 {
        &mut self.first.mask
    }
}

/// `PIDFD_INFO_PID` from `<linux/pidfd.h>`: `pid`, `tgid` and `ppid` are set.
const PIDFD_INFO_PID: u64 = 1 << 0;
/// `PIDFD_INFO_CREDS`: the credentials are set.
const PIDFD_INFO_CREDS: u64 = 1 << 1;
/// `PIDFD_INFO_CGROUPID`: `cgroupid` is set.
const PIDFD_INFO_CGROUPID: u64 = 1 << 2;
/// `PIDFD_INFO_EXIT` from `<linux/pidfd.h>`: ask for the exit status.
pub(crate) const PIDFD_INFO_EXIT: u64 = 1 << 3;
/// `PIDFD_INFO_SUPPORTED_MASK`: ask which flags the kernel supports.
const PIDFD_INFO_SUPPORTED_MASK: u64 = 1 << 5;

/// Whether `errno` means there is no `PIDFD_GET_INFO` here: ENOTTY from a
/// kernel before 6.13 (EINVAL from some), or ENOSYS from an emulator or
/// sandbox that implements no ioctl it does not know (qemu-user answers
/// every unknown ioctl so).
fn no_such_ioctl(errno: i32) -> bool {
    matches!(errno, libc::ENOTTY | libc::EINVAL | libc::ENOSYS)
}

/// `ioctl(pidfd, PIDFD_GET_INFO)` asking for `mask`, retried on EINTR.
/// Errors are a positive errno.
fn get_info<T: InfoLayout>(pidfd: BorrowedFd<'_>, mask: u64) -> Result<T, i32> {
    let mut info = T::default();
    *info.mask() = mask;
    loop {
        if let Some(errno) = super::injected("ioctl") {
            return Err(errno);
        }
        // SAFETY: `info` is a live, writable structure whose size is the one
        // T::REQUEST encodes (computed from T itself); the fd is borrowed.
        let ret = unsafe { libc::ioctl(pidfd.as_raw_fd(), T::REQUEST as _, &mut info as *mut T) };
        if ret == 0 {
            return Ok(info);
        }
        let errno = super::last_errno();
        if errno != libc::EINTR {
            return Err(errno);
        }
    }
}

/// What `PIDFD_GET_INFO` tells of a process's exit.
pub(crate) enum ReapedStatus {
    /// The status it exited with.
    Known(ExitStatus),
    /// Not known yet: the process has not been reaped, and this kernel keeps
    /// the status of reaped processes (or may: only a reap tells for sure).
    AtReap,
    /// This kernel cannot tell: no ioctl (before 6.13) or no exit
    /// information in it (6.13, 6.14).
    Unknown,
}

/// The exit status the kernel keeps for a process once its parent has
/// reaped it (Linux 6.15+). `reaped` says whether that happened (the pidfd
/// polls POLLHUP). A kernel without the ioctl is remembered after its first
/// answer, so older kernels pay one failed call per process, not per call.
pub(crate) fn reaped_exit_status(pidfd: BorrowedFd<'_>, reaped: bool) -> ReapedStatus {
    // Known to be absent only from `kernel_support`'s probe (see `failed`).
    if support::PIDFD_GET_INFO.is_absent() || support::PIDFD_INFO_EXIT.is_absent() {
        return ReapedStatus::Unknown;
    }
    let info: PidfdInfo = match get_info(pidfd, PIDFD_INFO_EXIT) {
        Ok(info) => info,
        Err(errno) => return failed(errno, reaped),
    };
    support::PIDFD_GET_INFO.set(true);
    if info.mask & PIDFD_INFO_EXIT != 0 {
        support::PIDFD_INFO_EXIT.set(true);
        return ExitStatus::from_wait_status(info.exit_code)
            .map_or(ReapedStatus::Unknown, ReapedStatus::Known);
    }
    if reaped {
        ReapedStatus::Unknown
    } else {
        ReapedStatus::AtReap
    }
}

/// What `PIDFD_GET_INFO` tells of a live (or not yet reaped) process.
pub(crate) struct LiveInfo {
    pub pid: i32,
    pub tgid: i32,
    pub ppid: i32,
    /// Real, effective, saved and file-system user IDs.
    pub uids: [u32; 4],
    /// Real, effective, saved and file-system group IDs.
    pub gids: [u32; 4],
    /// The ID of its cgroup (v2), when the kernel gave one.
    pub cgroup_id: Option<u64>,
}

/// `PIDFD_GET_INFO` for the PID, credentials and cgroup of the process.
/// Errors are a positive errno: `ENOTTY` (remembered) before Linux 6.13,
/// `ESRCH` once the process has been reaped or is in a PID namespace we
/// cannot see.
pub(crate) fn live_info(pidfd: BorrowedFd<'_>) -> Result<LiveInfo, i32> {
    if support::PIDFD_GET_INFO.is_absent() {
        return Err(libc::ENOTTY);
    }
    let info: PidfdInfo = match get_info(
        pidfd,
        PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_CGROUPID,
    ) {
        Ok(info) => info,
        Err(errno) if no_such_ioctl(errno) => {
            support::PIDFD_GET_INFO.set(false);
            return Err(libc::ENOTTY);
        }
        Err(errno) => return Err(errno),
    };
    support::PIDFD_GET_INFO.set(true);
    // Without PID and credentials the kernel answered only with an exit
    // (a reaped process, were exit information asked for): nothing live.
    if info.mask & (PIDFD_INFO_PID | PIDFD_INFO_CREDS) != (PIDFD_INFO_PID | PIDFD_INFO_CREDS) {
        return Err(libc::ESRCH);
    }
    Ok(LiveInfo {
        pid: info.pid as i32,
        tgid: info.tgid as i32,
        ppid: info.ppid as i32,
        uids: [info.ruid, info.euid, info.suid, info.fsuid],
        gids: [info.rgid, info.egid, info.sgid, info.fsgid],
        cgroup_id: (info.mask & PIDFD_INFO_CGROUPID != 0).then_some(info.cgroupid),
    })
}

/// What a failed PIDFD_GET_INFO says: the status is unknown, or comes at a
/// reap that is under way. Never an error for the caller.
fn failed(errno: i32, reaped: bool) -> ReapedStatus {
    match errno {
        // No such ioctl: before 6.13.
        _ if no_such_ioctl(errno) => {
            support::PIDFD_GET_INFO.set(false);
            ReapedStatus::Unknown
        }
        // The PID is no longer (or not) visible to us. Before the pidfd polls
        // POLLHUP, that is a reap under way: the kernel unhashes the PID some
        // microseconds before it stores the status, so the status comes with
        // the POLLHUP. After it, this kernel kept nothing (6.13, 6.14), or
        // the process is in a PID namespace we cannot see. Neither says what
        // the kernel can do for other processes, so nothing is remembered:
        // only a reap of our own (`kernel_support`) tells that for certain.
        libc::ESRCH if !reaped => ReapedStatus::AtReap,
        _ => ReapedStatus::Unknown,
    }
}

/// Records whether the kernel keeps reaped processes' statuses, as a reap of
/// our own showed (see `kernel_support`); `failed` never guesses it.
pub(crate) fn record_exit_info_support(kept: bool) {
    support::PIDFD_INFO_EXIT.set(kept);
}

/// The `PIDFD_INFO_*` flags the kernel supports, when it lists them
/// (`PIDFD_INFO_SUPPORTED_MASK`: after 6.18; 7.3 has it). None from older
/// kernels, where only trying each feature tells.
pub(crate) fn supported_mask(pidfd: BorrowedFd<'_>) -> Option<u64> {
    let info: PidfdInfoWithSupported = get_info(pidfd, PIDFD_INFO_SUPPORTED_MASK).ok()?;
    support::PIDFD_GET_INFO.set(true);
    // A list without PIDFD_INFO_PID, which every kernel with the ioctl
    // supports, is not one to trust (a layout the kernel filled otherwise).
    let listed = info.first.mask & PIDFD_INFO_SUPPORTED_MASK != 0;
    (listed && info.supported_mask & PIDFD_INFO_PID != 0).then_some(info.supported_mask)
}
