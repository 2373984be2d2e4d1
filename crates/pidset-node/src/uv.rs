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

use std::cell::Cell;
use std::ffi::{c_int, c_void, CStr};
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::OnceLock;

use napi::sys::uv_loop_s;
use napi::Env;

/// An opaque `uv_poll_t`.
#[repr(C)]
struct UvPoll {
    _opaque: [u8; 0],
}

/// `uv_poll_cb`.
type PollCallback = unsafe extern "C" fn(handle: *mut UvPoll, status: c_int, events: c_int);
/// `uv_close_cb` (declared for `uv_poll_t`, the only handle closed here).
type CloseCallback = unsafe extern "C" fn(handle: *mut UvPoll);

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

/// A started `uv_poll_t` watching a descriptor of its own for readability,
/// and calling back with a value of its own. The value owns the handle: it
/// cannot be copied, and [`close`](Self::close) consumes it, so no safe
/// code can reach the handle once it is closing. libuv's close callback
/// then frees the memory, closes the descriptor and hands the value back.
pub struct PollHandle<T: 'static> {
    raw: NonNull<UvPoll>,
    uv: &'static Uv,
    data: PhantomData<HandleData<T>>,
}

/// What a handle's `data` field points to.
struct HandleData<T> {
    value: T,
    on_readable: fn(&T),
    /// Set by `close`; a `Cell` because `on_readable` may be running.
    on_closed: Cell<Option<fn(T)>>,
    /// Watched by the handle, so open until it is closed.
    _fd: OwnedFd,
}

impl<T: 'static> PollHandle<T> {
    /// Allocates a handle on the loop of `env` (this thread's) for `fd`
    /// and starts watching it; `on_readable(&value)` then runs on the
    /// loop's thread whenever `fd` is readable.
    ///
    /// libuv registers a started handle with its epoll instance lazily, on
    /// the next loop turn, and aborts the process if that fails (ENOSPC once
    /// `fs.epoll.max_user_watches` is reached). So the descriptor is
    /// registered here first, where a failure is an error: libuv's own
    /// registration then meets EEXIST, which it handles by modifying ours.
    pub fn start(
        env: &Env,
        fd: OwnedFd,
        value: T,
        on_readable: fn(&T),
    ) -> std::result::Result<Self, UvFailure> {
        // A runtime with no libuv loop for addons (Bun) fails here.
        let event_loop = env
            .get_uv_event_loop()
            .map_err(|_| ("napi_get_uv_event_loop", -libc::ENOSYS))?;
        // The runtime has no libuv at all (Deno): the call that cannot be made.
        let uv = uv().ok_or(("uv_poll_init", -libc::ENOSYS))?;
        let raw_fd = fd.as_raw_fd();
        // SAFETY: a pure query of a libuv constant.
        let size = unsafe { (uv.handle_size)(UV_POLL) };
        // SAFETY: calloc of a non-zero size; checked for null below.
        let raw = unsafe { libc::calloc(1, size) }.cast::<UvPoll>();
        let handle = NonNull::new(raw).ok_or(("calloc", -libc::ENOMEM))?;
        // SAFETY: `handle` is zeroed memory of the size libuv asked for; the
        // loop is this thread's (napi-rs's contract for `env`) and `fd` is
        // open.
        let status = unsafe { (uv.poll_init)(event_loop, handle.as_ptr(), raw_fd) };
        if status != 0 {
            // SAFETY: init failed, so libuv holds no reference to the memory.
            unsafe { libc::free(raw.cast()) };
            return Err(("uv_poll_init", status));
        }
        let data = Box::new(HandleData {
            value,
            on_readable,
            on_closed: Cell::new(None),
            _fd: fd,
        });
        // SAFETY: the handle is initialised; `data` is its first field. The
        // box is reclaimed by `on_closed`, the only way a handle ends.
        unsafe { *raw.cast::<*mut c_void>() = Box::into_raw(data).cast() };
        let handle = Self {
            raw: handle,
            uv,
            data: PhantomData,
        };
        // SAFETY: an initialised poll handle and a callback for its `T`.
        let status =
            unsafe { (uv.poll_start)(handle.raw.as_ptr(), UV_READABLE, readable_trampoline::<T>) };
        if status != 0 {
            // An initialised handle must go through uv_close before its
            // memory is released.
            handle.close(drop);
            return Err(("uv_poll_start", status));
        }
        // Only now: uv_poll_start first stops the handle, which removes the
        // descriptor from libuv's epoll instance, so a registration made
        // before it would be undone (the ENOSPC test in
        // __test__/faults.spec.ts shows the abort that follows).
        // SAFETY: the loop is live; `fd` is open (the handle owns it).
        if let Err(errno) = unsafe { register_with_backend((uv.backend_fd)(event_loop), raw_fd) } {
            // Closing stops the handle: libuv forgets its pending
            // registration, so nothing is left to fail later.
            handle.close(drop);
            return Err(("epoll_ctl", -errno));
        }
        Ok(handle)
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

    /// Stops and closes the handle; `on_closed(value)` runs on a later loop
    /// turn, once libuv is done with it.
    pub fn close(self, on_closed: fn(T)) {
        // SAFETY: a live handle, whose `data` is the box set by `start`.
        let data = unsafe { &*data_of::<T>(self.raw.as_ptr()) };
        data.on_closed.set(Some(on_closed));
        // SAFETY: a live handle, closed exactly once (this consumes it).
        unsafe { (self.uv.close)(self.raw.as_ptr(), on_closed_trampoline::<T>) };
    }
}

/// The `HandleData` of a handle made by `PollHandle::<T>::start`.
///
/// # Safety
/// `raw` must be such a handle, not yet freed.
unsafe fn data_of<T>(raw: *mut UvPoll) -> *mut HandleData<T> {
    // SAFETY: per the contract, `raw` is a live uv_poll_t whose first field
    // is `void* data`, set by `start`.
    unsafe { *raw.cast::<*mut HandleData<T>>() }
}

unsafe extern "C" fn readable_trampoline<T>(handle: *mut UvPoll, _status: c_int, _events: c_int) {
    // SAFETY: libuv calls this only for a started, unclosed handle of this
    // `T`, whose data lives until the close callback, which cannot run
    // during this one.
    let data = unsafe { &*data_of::<T>(handle) };
    // Unwinding into libuv would be undefined behaviour; nothing here is
    // expected to panic, but if it did, the call is dropped instead.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (data.on_readable)(&data.value)
    }));
}

unsafe extern "C" fn on_closed_trampoline<T>(handle: *mut UvPoll) {
    // SAFETY: libuv is done with the handle; its data is the box made by
    // `start`, reclaimed exactly once, here, and the memory was calloc'd.
    let data = unsafe {
        let data = Box::from_raw(data_of::<T>(handle));
        libc::free(handle.cast());
        data
    };
    let HandleData {
        value, on_closed, ..
    } = *data;
    if let Some(on_closed) = on_closed.get() {
        // See `on_readable`.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_closed(value)));
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
