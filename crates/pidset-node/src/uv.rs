//! The few libuv calls needed to watch one descriptor on Node's own loop.
//!
//! Node exports libuv's symbols to addons. They are looked up when first
//! needed (`dlsym`), not linked: Deno loads Node-API addons but has no
//! libuv, and an addon with undefined `uv_*` symbols would not load there
//! at all, where without them everything but waiting works. (Bun exports
//! the names, but some abort the process when called; `lib/event-loop.ts`
//! never lets Bun reach them.) `uv_poll_t` is allocated with
//! `uv_handle_size`, never declared here: its size differs between libuv
//! versions, and only its first field (`void* data`, the same in every
//! libuv 1.x handle) is ever touched.

use std::ffi::{c_int, c_void, CStr};
use std::ptr::NonNull;
use std::sync::OnceLock;

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

type HandleSizeFn = unsafe extern "C" fn(kind: c_int) -> usize;
type BackendFdFn = unsafe extern "C" fn(event_loop: *const uv_loop_s) -> c_int;
type PollInitFn = unsafe extern "C" fn(*mut uv_loop_s, *mut UvPoll, c_int) -> c_int;
type PollStartFn = unsafe extern "C" fn(*mut UvPoll, c_int, PollCallback) -> c_int;
type CloseFn = unsafe extern "C" fn(handle: *mut UvPoll, cb: CloseCallback);
type RefFn = unsafe extern "C" fn(handle: *mut UvPoll);

/// The libuv functions used here, as found in the running process.
struct Uv {
    handle_size: HandleSizeFn,
    backend_fd: BackendFdFn,
    poll_init: PollInitFn,
    poll_start: PollStartFn,
    close: CloseFn,
    ref_: RefFn,
    unref: RefFn,
}

/// The address of the function `name` in the running process, if any.
fn lookup(name: &CStr) -> Option<NonNull<c_void>> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads.
    NonNull::new(unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) })
}

/// libuv's functions, looked up once; `None` where the runtime has no libuv.
fn uv() -> Option<&'static Uv> {
    static UV: OnceLock<Option<Uv>> = OnceLock::new();
    UV.get_or_init(|| {
        type Sym = NonNull<c_void>;
        // SAFETY (each transmute): the symbol of that name is the libuv 1.x
        // function with exactly the signature of the type it becomes, stable
        // across libuv 1.x; a function symbol's non-null address, as dlsym
        // returns it, is a valid pointer to that function.
        unsafe {
            Some(Uv {
                handle_size: std::mem::transmute::<Sym, HandleSizeFn>(lookup(c"uv_handle_size")?),
                backend_fd: std::mem::transmute::<Sym, BackendFdFn>(lookup(c"uv_backend_fd")?),
                poll_init: std::mem::transmute::<Sym, PollInitFn>(lookup(c"uv_poll_init")?),
                poll_start: std::mem::transmute::<Sym, PollStartFn>(lookup(c"uv_poll_start")?),
                close: std::mem::transmute::<Sym, CloseFn>(lookup(c"uv_close")?),
                ref_: std::mem::transmute::<Sym, RefFn>(lookup(c"uv_ref")?),
                unref: std::mem::transmute::<Sym, RefFn>(lookup(c"uv_unref")?),
            })
        }
    })
    .as_ref()
}

/// A failed libuv (or kernel) call: its name and libuv status (-errno).
pub type UvFailure = (&'static str, c_int);

/// A started `uv_poll_t` watching one descriptor for readability. The value
/// owns the handle: it cannot be copied, and [`close`](Self::close) consumes
/// it, so no safe code can reach the handle once it is closing. The memory
/// is released by the close callback, through [`free`](Self::free).
pub struct PollHandle {
    raw: NonNull<UvPoll>,
    uv: &'static Uv,
}

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
        // The runtime has no libuv (Deno): the call that cannot be made.
        let uv = uv().ok_or(("uv_poll_init", -libc::ENOSYS))?;
        // SAFETY: a pure query of a libuv constant.
        let size = unsafe { (uv.handle_size)(UV_POLL) };
        // SAFETY: calloc of a non-zero size; checked for null below.
        let raw = unsafe { libc::calloc(1, size) }.cast::<UvPoll>();
        let handle = NonNull::new(raw).ok_or(("calloc", -libc::ENOMEM))?;
        // SAFETY: `handle` is zeroed memory of the size libuv asked for, and
        // the caller vouches for the loop and the descriptor.
        let status = unsafe { (uv.poll_init)(event_loop, handle.as_ptr(), fd) };
        if status != 0 {
            // SAFETY: init failed, so libuv holds no reference to the memory.
            unsafe { libc::free(raw.cast()) };
            return Err(("uv_poll_init", status));
        }
        let handle = Self { raw: handle, uv };
        // SAFETY: the handle is initialised; `data` is its first field.
        unsafe { *handle.data_slot() = data };
        // SAFETY: an initialised poll handle and a valid callback.
        let status = unsafe { (uv.poll_start)(handle.raw.as_ptr(), UV_READABLE, on_readable) };
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
        if let Err(errno) = unsafe { register_with_backend((uv.backend_fd)(event_loop), fd) } {
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
        self.raw.as_ptr().cast()
    }

    /// Whether the handle keeps the loop alive while it is active.
    pub fn set_ref(&self, keep_alive: bool) {
        // SAFETY: `self` owns a live handle: it is only closed by `close`,
        // which consumes it.
        unsafe {
            if keep_alive {
                (self.uv.ref_)(self.raw.as_ptr());
            } else {
                (self.uv.unref)(self.raw.as_ptr());
            }
        }
    }

    /// Stops and closes the handle; `on_closed` runs on a later loop turn
    /// and must end with [`free`](Self::free).
    pub fn close(self, on_closed: CloseCallback) {
        // SAFETY: a live handle, closed exactly once (this consumes it).
        unsafe { (self.uv.close)(self.raw.as_ptr(), on_closed) };
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

/// Adds `fd` to `backend`, the epoll instance behind a libuv loop, as
/// libuv would (readable, the descriptor as data); errors come back as a
/// positive errno.
///
/// # Safety
/// `backend` must be a live loop's epoll descriptor and `fd` an open one.
unsafe fn register_with_backend(backend: c_int, fd: c_int) -> Result<(), c_int> {
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
