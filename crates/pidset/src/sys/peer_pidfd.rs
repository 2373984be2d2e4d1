use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `SO_PEERPIDFD` from `<asm-generic/socket.h>` (Linux 6.5).
const SO_PEERPIDFD: libc::c_int = 77;

/// `getsockopt(socket, SOL_SOCKET, SO_PEERPIDFD)`: a pidfd (close-on-exec)
/// for the process that connected the other end of a Unix-domain socket, as
/// it was when it connected. Errors are a positive errno: ENOPROTOOPT before
/// 6.5, ENODATA for a socket without a peer process (not connected, or not
/// a Unix-domain socket), ESRCH once the peer has been reaped, ENOTSOCK.
pub(crate) fn peer_pidfd(socket: BorrowedFd<'_>) -> Result<OwnedFd, i32> {
    if let Some(errno) = super::injected("getsockopt") {
        return Err(errno);
    }
    let mut fd: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` and `len` are live locals of the sizes passed; the
    // socket is borrowed for the call.
    let ret = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_PEERPIDFD,
            (&mut fd as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if ret < 0 {
        return Err(super::last_errno());
    }
    if fd < 0 {
        return Err(libc::ENODATA);
    }
    // SAFETY: on success the kernel installed a new descriptor, ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
