//! The few libuv calls needed to watch one descriptor on Node's own loop.
//!
//! Node exports libuv's symbols to addons, so these resolve against the
//! running `node` when the addon is loaded. `uv_poll_t` is allocated with
//! `uv_handle_size`, never declared here: its size differs between libuv
//! versions, and only its first field (`void* data`, the same in every
//! libuv 1.x handle) is ever touched.

use std::ffi::{c_int, c_void};
use std::ptr::NonNull;

use napi::sys::uv_loop_s;

/// An opaque `uv_poll_t`.
#[repr(C)]
pub struct UvPoll {
    _opaque: [u8; 0],
}

/// `uv_poll_cb`.
pub type PollCallback = unsafe extern "C" fn(handle: *mut UvPoll, status: c_int, events: c_int);
/// `uv_close_cb` (declared for `uv_poll_t`, the only handle closed here).
pub type CloseCallback = unsafe extern "C" fn(handle: *mut UvPoll);

/// `UV_POLL` in `uv_handle_type`.
const UV_POLL: c_int = 8;
/// `UV_READABLE` in `uv_poll_event`.
const UV_READABLE: c_int = 1;

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_backend_fd(event_loop: *const uv_loop_s) -> c_int;
    fn uv_poll_init(event_loop: *mut uv_loop_s, handle: *mut UvPoll, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut UvPoll, events: c_int, cb: PollCallback) -> c_int;
    fn uv_close(handle: *mut UvPoll, cb: CloseCallback);
    fn uv_ref(handle: *mut UvPoll);
    fn uv_unref(handle: *mut UvPoll);
}

/// A failed libuv (or kernel) call: its name and libuv status (-errno).
pub type UvFailure = (&'static str, c_int);

/// A started `uv_poll_t` watching one descriptor for readability. The value
/// owns the handle: it cannot be copied, and [`close`](Self::close) consumes
/// it, so no safe code can reach the handle once it is closing. The memory
/// is released by the close callback, through [`free`](Self::free).
pub struct PollHandle(NonNull<UvPoll>);

impl PollHandle {
    /// Allocates a handle on `event_loop` for `fd`, stores `data` in it and
    /// starts watching; `on_readable` then runs on the loop's thread.
    ///
    /// libuv registers a started handle with its epoll instance lazily, on
    /// the next loop turn, and aborts the process if that fails (ENOSPC once
    /// `fs.epoll.max_user_watches` is reached). So the descriptor is
    /// registered here first, where a failure is an error: libuv's own
    /// registration then meets EEXIST, which it handles by modifying ours.
    ///
    /// # Safety
    /// `event_loop` must be the live loop of the calling thread, and `fd` must
    /// stay open until the handle is closed.
    pub unsafe fn start(
        event_loop: *mut uv_loop_s,
        fd: c_int,
        data: *mut c_void,
        on_readable: PollCallback,
    ) -> Result<Self, UvFailure> {
        // SAFETY: a pure query of a libuv constant.
        let size = unsafe { uv_handle_size(UV_POLL) };
        // SAFETY: calloc of a non-zero size; checked for null below.
        let raw = unsafe { libc::calloc(1, size) }.cast::<UvPoll>();
        let handle = NonNull::new(raw).ok_or(("calloc", -libc::ENOMEM))?;
        // SAFETY: `handle` is zeroed memory of the size libuv asked for, and
        // the caller vouches for the loop and the descriptor.
        let status = unsafe { uv_poll_init(event_loop, handle.as_ptr(), fd) };
        if status != 0 {
            // SAFETY: init failed, so libuv holds no reference to the memory.
            unsafe { libc::free(raw.cast()) };
            return Err(("uv_poll_init", status));
        }
        let handle = Self(handle);
        // SAFETY: the handle is initialised; `data` is its first field.
        unsafe { *handle.data_slot() = data };
        // SAFETY: an initialised poll handle and a valid callback.
        let status = unsafe { uv_poll_start(handle.0.as_ptr(), UV_READABLE, on_readable) };
        if status != 0 {
            // An initialised handle must go through uv_close before its
            // memory is released.
            handle.close(free_on_close);
            return Err(("uv_poll_start", status));
        }
        // Only now: uv_poll_start first stops the handle, which removes the
        // descriptor from libuv's epoll instance, so a registration made
        // before it would be undone (the ENOSPC test in
        // __test__/hardening.spec.ts shows the abort that follows).
        // SAFETY: the caller vouches for the loop; `fd` is open.
        if let Err(errno) = unsafe { register_with_backend(event_loop, fd) } {
            // Closing stops the handle: libuv forgets its pending
            // registration, so nothing is left to fail later.
            handle.close(free_on_close);
            return Err(("epoll_ctl", -errno));
        }
        Ok(handle)
    }

    /// The `data` pointer given to [`start`](Self::start), read from a handle
    /// that libuv passed to a callback.
    ///
    /// # Safety
    /// `raw` must be a handle created by [`start`](Self::start) and not freed.
    pub unsafe fn data(raw: *mut UvPoll) -> *mut c_void {
        // SAFETY: per the contract, `raw` is a live uv_poll_t whose first
        // field is `void* data`.
        unsafe { *raw.cast::<*mut c_void>() }
    }

    fn data_slot(&self) -> *mut *mut c_void {
        self.0.as_ptr().cast()
    }

    /// Whether the handle keeps the loop alive while it is active.
    pub fn set_ref(&self, keep_alive: bool) {
        // SAFETY: `self` owns a live handle: it is only closed by `close`,
        // which consumes it.
        unsafe {
            if keep_alive {
                uv_ref(self.0.as_ptr());
            } else {
                uv_unref(self.0.as_ptr());
            }
        }
    }

    /// Stops and closes the handle; `on_closed` runs on a later loop turn
    /// and must end with [`free`](Self::free).
    pub fn close(self, on_closed: CloseCallback) {
        // SAFETY: a live handle, closed exactly once (this consumes it).
        unsafe { uv_close(self.0.as_ptr(), on_closed) };
    }

    /// Releases a closed handle's memory.
    ///
    /// # Safety
    /// `raw` must be a handle from [`start`](Self::start) whose close
    /// callback is running, and it must not be used afterwards.
    pub unsafe fn free(raw: *mut UvPoll) {
        // SAFETY: allocated by calloc in `start`; libuv is done with it.
        unsafe { libc::free(raw.cast()) };
    }
}

/// Adds `fd` to the epoll instance behind `event_loop`, as libuv would
/// (readable, the descriptor as data); errors come back as a positive errno.
///
/// # Safety
/// `event_loop` must be a live loop and `fd` an open descriptor.
unsafe fn register_with_backend(event_loop: *mut uv_loop_s, fd: c_int) -> Result<(), c_int> {
    // SAFETY: the caller vouches for the loop.
    let backend = unsafe { uv_backend_fd(event_loop) };
    // libuv reads the event's data as `epoll_data_t.fd`, the union's first
    // four bytes: place the descriptor there whatever the byte order.
    let mut data = [0u8; 8];
    data[..4].copy_from_slice(&fd.to_ne_bytes());
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: u64::from_ne_bytes(data),
    };
    // SAFETY: a valid event structure that outlives the call; both
    // descriptors are open per the contract.
    let ret = unsafe { libc::epoll_ctl(backend, libc::EPOLL_CTL_ADD, fd, &mut event) };
    if ret == -1 {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        return Err(errno);
    }
    Ok(())
}

unsafe extern "C" fn free_on_close(handle: *mut UvPoll) {
    // SAFETY: only used as the close callback of a handle from `start`.
    unsafe { PollHandle::free(handle) };
}
