use std::os::fd::{AsRawFd, BorrowedFd};

use crate::exit_info::ExitStatus;

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

/// `PIDFD_INFO_EXIT` from `<linux/pidfd.h>`: ask for the exit status.
const PIDFD_INFO_EXIT: u64 = 1 << 3;

/// `PIDFD_GET_INFO`, i.e. `_IOWR(0xFF, 11, struct pidfd_info)`.
const PIDFD_GET_INFO: libc::c_ulong =
    (3 << 30) | ((std::mem::size_of::<PidfdInfo>() as libc::c_ulong) << 16) | (0xFF << 8) | 11;

/// The exit status the kernel keeps for a process that has been reaped by its
/// parent (Linux 6.15+). `None` when it is not known: the process has not been
/// reaped yet, or the kernel is too old for the ioctl or for exit information.
pub(crate) fn reaped_exit_status(pidfd: BorrowedFd<'_>) -> Option<ExitStatus> {
    let mut info = PidfdInfo {
        mask: PIDFD_INFO_EXIT,
        ..PidfdInfo::default()
    };
    loop {
        // SAFETY: `info` is a live, writable, correctly sized structure whose
        // size matches the one encoded in PIDFD_GET_INFO; the fd is borrowed.
        let ret = unsafe {
            libc::ioctl(
                pidfd.as_raw_fd(),
                PIDFD_GET_INFO as _,
                &mut info as *mut PidfdInfo,
            )
        };
        if ret == 0 {
            break;
        }
        // ENOTTY/EINVAL: no such ioctl (before 6.13); ESRCH: reaped, but the
        // kernel predates exit information. In each case the status is
        // simply unknown, which is not an error for the caller.
        if super::last_errno() != libc::EINTR {
            return None;
        }
    }
    if info.mask & PIDFD_INFO_EXIT == 0 {
        return None;
    }
    ExitStatus::from_wait_status(info.exit_code)
}
