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
    fn uv_poll_init(event_loop: *mut uv_loop_s, handle: *mut UvPoll, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut UvPoll, events: c_int, cb: PollCallback) -> c_int;
    fn uv_close(handle: *mut UvPoll, cb: CloseCallback);
    fn uv_ref(handle: *mut UvPoll);
    fn uv_unref(handle: *mut UvPoll);
}

/// A started `uv_poll_t` watching one descriptor for readability. It lives
/// until [`close`](Self::close), whose callback must [`free`](Self::free) it.
#[derive(Clone, Copy)]
pub struct PollHandle(NonNull<UvPoll>);

impl PollHandle {
    /// Allocates a handle on `event_loop` for `fd`, stores `data` in it and
    /// starts watching; `on_readable` then runs on the loop's thread.
    ///
    /// # Safety
    /// `event_loop` must be the live loop of the calling thread, and `fd` must
    /// stay open until the handle is closed.
    pub unsafe fn start(
        event_loop: *mut uv_loop_s,
        fd: c_int,
        data: *mut c_void,
        on_readable: PollCallback,
    ) -> Result<Self, c_int> {
        // SAFETY: a pure query of a libuv constant.
        let size = unsafe { uv_handle_size(UV_POLL) };
        // SAFETY: calloc of a non-zero size; checked for null below.
        let raw = unsafe { libc::calloc(1, size) }.cast::<UvPoll>();
        let handle = NonNull::new(raw).ok_or(-libc::ENOMEM)?;
        // SAFETY: `handle` is zeroed memory of the size libuv asked for, and
        // the caller vouches for the loop and the descriptor.
        let status = unsafe { uv_poll_init(event_loop, handle.as_ptr(), fd) };
        if status != 0 {
            // SAFETY: init failed, so libuv holds no reference to the memory.
            unsafe { libc::free(raw.cast()) };
            return Err(status);
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
            return Err(status);
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
        // SAFETY: the handle is live until `close`, after which the owner
        // drops this value (see `Poller`).
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

unsafe extern "C" fn free_on_close(handle: *mut UvPoll) {
    // SAFETY: only used as the close callback of a handle from `start`.
    unsafe { PollHandle::free(handle) };
}
