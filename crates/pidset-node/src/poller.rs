//! Exit notifications on Node's own event loop.
//!
//! Why this design: the per-environment [`Epoll`] holds every watched pidfd,
//! and its one descriptor is registered with Node's libuv loop as a
//! `uv_poll_t`. When a process exits, libuv's own `epoll_wait` wakes, the
//! callback below runs on the JavaScript thread and hands the exited
//! descriptors to JavaScript in one call. Against the alternatives (measured
//! in a pilot before this crate, kill to notification on a 2-vCPU machine:
//! 178 µs p50 this way, 300 µs through an epoll thread calling a threadsafe
//! function), this adds no thread hop per exit, occupies no libuv threadpool
//! thread (an `AsyncTask` per wait would starve fs, dns and crypto once four
//! waits are pending) and keeps no thread per process. Worker threads each
//! load the module, and so get a `Poller` on their own loop.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::os::fd::{AsFd, AsRawFd};
use std::ptr;
use std::rc::Rc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue};
use napi_derive::napi;
use pidset::Epoll;

use crate::error::{napi_error, syscall_error, Result};
use crate::native_pidfd::NativePidFd;
use crate::uv::{PollHandle, UvPoll};

/// Watches pidfds on this thread's event loop and calls `onExit(fds)` with
/// the descriptors of processes that exited. Each watch reports once
/// (`watch` again to re-arm). Not referenced by default: whether a pending
/// wait keeps the loop alive is decided by `ref()`/`unref()`.
#[napi]
pub struct Poller {
    shared: Rc<Shared>,
}

/// What the libuv callbacks and the JavaScript object share. The libuv
/// handle owns one `Rc` (as its `data`) until its close callback.
struct Shared {
    env: sys::napi_env,
    epoll: RefCell<Epoll>,
    /// `None` once the environment is being torn down.
    handle: Cell<Option<PollHandle>>,
    callback: Cell<sys::napi_ref>,
    context: Cell<sys::napi_async_context>,
    cleanup_hook: Cell<sys::napi_async_cleanup_hook_handle>,
}

#[napi]
impl Poller {
    /// Starts watching on the current thread's event loop.
    #[napi(constructor)]
    pub fn new(env: Env, on_exit: Function<Vec<i32>, ()>) -> Result<Self> {
        let epoll = Epoll::new().map_err(syscall_error)?;
        let event_loop = env.get_uv_event_loop().map_err(napi_error)?;
        let raw_env = env.raw();
        let shared = Rc::new(Shared {
            env: raw_env,
            epoll: RefCell::new(epoll),
            handle: Cell::new(None),
            callback: Cell::new(ptr::null_mut()),
            context: Cell::new(ptr::null_mut()),
            cleanup_hook: Cell::new(ptr::null_mut()),
        });
        shared.init_callback(on_exit.raw())?;

        let data = Box::into_raw(Box::new(Rc::clone(&shared))).cast::<c_void>();
        let epoll_fd = shared.epoll.borrow().as_fd().as_raw_fd();
        // SAFETY: the loop is this thread's live loop; the epoll descriptor is
        // owned by `shared`, which the handle keeps alive through `data`
        // until its close callback.
        match unsafe { PollHandle::start(event_loop, epoll_fd, data, on_readable) } {
            Ok(handle) => {
                handle.set_ref(false);
                shared.handle.set(Some(handle));
            }
            Err(status) => {
                // SAFETY: the handle was never created, so `data` is ours.
                drop(unsafe { Box::from_raw(data.cast::<Rc<Shared>>()) });
                shared.release_callback();
                return Err(napi::Error::new(
                    "PIDSET_UV".to_owned(),
                    format!("uv_poll_start failed with status {status}"),
                ));
            }
        }

        let mut hook = ptr::null_mut();
        // SAFETY: a valid env, a hook with the right signature, and `data`,
        // which stays valid until the handle's close callback, which the hook
        // itself starts and which removes the hook.
        let status = unsafe {
            sys::napi_add_async_cleanup_hook(raw_env, Some(on_env_cleanup), data, &mut hook)
        };
        if status != sys::Status::napi_ok {
            shared.shut_down();
            return Err(napi::Error::new(
                "PIDSET_NAPI".to_owned(),
                "napi_add_async_cleanup_hook failed".to_owned(),
            ));
        }
        shared.cleanup_hook.set(hook);
        Ok(Self { shared })
    }

    /// Arms `pidfd` to be reported once, when its process exits.
    #[napi]
    pub fn watch(&self, pidfd: &NativePidFd) -> Result<()> {
        let pidfd = pidfd.get("epoll_ctl")?;
        self.shared
            .epoll
            .borrow()
            .watch(pidfd.as_fd())
            .map_err(|e| {
                syscall_error(pidset::Error::new(
                    e.errno(),
                    e.syscall(),
                    Some(pidfd.pid()),
                ))
            })
    }

    /// Stops watching `pidfd`; harmless if it is not watched or closed.
    #[napi]
    pub fn unwatch(&self, pidfd: &NativePidFd) -> Result<()> {
        let Ok(pidfd) = pidfd.get("epoll_ctl") else {
            return Ok(());
        };
        self.shared
            .epoll
            .borrow()
            .unwatch(pidfd.as_fd())
            .map_err(syscall_error)
    }

    /// Keep the event loop alive (while any descriptor is watched).
    #[napi(js_name = "ref")]
    pub fn keep_alive(&self) {
        if let Some(handle) = self.shared.handle.get() {
            handle.set_ref(true);
        }
    }

    /// Let the event loop exit even though descriptors are watched.
    #[napi(js_name = "unref")]
    pub fn let_exit(&self) {
        if let Some(handle) = self.shared.handle.get() {
            handle.set_ref(false);
        }
    }
}

impl Shared {
    /// References the JavaScript callback and creates the async context in
    /// which it is called, so that async_hooks and AsyncLocalStorage see
    /// exits as coming from a resource of their own.
    fn init_callback(&self, callback: sys::napi_value) -> Result<()> {
        let mut reference = ptr::null_mut();
        let mut resource = ptr::null_mut();
        let mut name = ptr::null_mut();
        let mut context = ptr::null_mut();
        // SAFETY: plain Node-API calls on the live env of the current call,
        // each with valid out-pointers.
        let ok = unsafe {
            sys::napi_create_reference(self.env, callback, 1, &mut reference)
                == sys::Status::napi_ok
                && sys::napi_create_object(self.env, &mut resource) == sys::Status::napi_ok
                && sys::napi_create_string_utf8(self.env, c"pidset".as_ptr(), 6, &mut name)
                    == sys::Status::napi_ok
                && sys::napi_async_init(self.env, resource, name, &mut context)
                    == sys::Status::napi_ok
        };
        self.callback.set(reference);
        self.context.set(context);
        if ok {
            Ok(())
        } else {
            self.release_callback();
            Err(napi::Error::new(
                "PIDSET_NAPI".to_owned(),
                "could not set up the exit callback".to_owned(),
            ))
        }
    }

    fn release_callback(&self) {
        let reference = self.callback.replace(ptr::null_mut());
        let context = self.context.replace(ptr::null_mut());
        // SAFETY: each is released at most once (they are swapped out for
        // null), on the env's own thread, while the env is still alive.
        unsafe {
            if !reference.is_null() {
                sys::napi_delete_reference(self.env, reference);
            }
            if !context.is_null() {
                sys::napi_async_destroy(self.env, context);
            }
        }
    }

    /// Stops watching for good: closes the libuv handle (whose callback
    /// frees it and the shared state) and drops the JavaScript callback.
    fn shut_down(&self) {
        self.release_callback();
        if let Some(handle) = self.handle.take() {
            handle.close(on_closed);
        }
    }

    /// Takes the exited descriptors from the epoll set and passes them to
    /// JavaScript. One batch per loop turn: if more are ready, the epoll
    /// descriptor stays readable and libuv calls again on the next turn.
    fn dispatch(&self) {
        let mut ready = Vec::new();
        let fetched = self
            .epoll
            .borrow_mut()
            .ready(&mut ready, Some(Duration::ZERO));
        if !matches!(fetched, Ok(n) if n > 0) {
            return;
        }
        let callback = self.callback.get();
        if callback.is_null() {
            return;
        }
        // SAFETY: called on the env's thread from a libuv callback, with the
        // callback reference and async context still alive (both are
        // released only by `shut_down`, which also stops these calls).
        unsafe { call_on_exit(self.env, callback, self.context.get(), &ready) };
    }
}

/// Calls the JavaScript callback with the descriptors through
/// `napi_make_callback`, which, unlike a plain function call, runs the
/// microtask and nextTick queues afterwards: without it, promises settled by
/// the callback would wait for some unrelated callback to drain them.
///
/// # Safety
/// Must run on the env's thread outside any JavaScript frame, with a live
/// reference and async context.
unsafe fn call_on_exit(
    env: sys::napi_env,
    callback: sys::napi_ref,
    context: sys::napi_async_context,
    fds: &[i32],
) {
    let mut scope = ptr::null_mut();
    // SAFETY: per this function's contract; every value created below lives
    // in this handle scope, which is closed before returning.
    unsafe {
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let mut func = ptr::null_mut();
        let mut recv = ptr::null_mut();
        let mut array = ptr::null_mut();
        let mut ok = sys::napi_get_reference_value(env, callback, &mut func) == sys::Status::napi_ok
            && !func.is_null()
            // napi_make_callback wants an object as `this`.
            && sys::napi_get_global(env, &mut recv) == sys::Status::napi_ok
            && sys::napi_create_array_with_length(env, fds.len(), &mut array)
                == sys::Status::napi_ok;
        for (index, fd) in fds.iter().enumerate() {
            let mut value = ptr::null_mut();
            ok = ok
                && sys::napi_create_int32(env, *fd, &mut value) == sys::Status::napi_ok
                && sys::napi_set_element(env, array, index as u32, value) == sys::Status::napi_ok;
        }
        if ok {
            let mut result = ptr::null_mut();
            let argv = [array];
            let status =
                sys::napi_make_callback(env, context, recv, func, 1, argv.as_ptr(), &mut result);
            if status == sys::Status::napi_pending_exception {
                // An exception escaping the callback is the program's, as if
                // thrown from an event handler: report it the same way.
                let mut error = ptr::null_mut();
                if sys::napi_get_and_clear_last_exception(env, &mut error) == sys::Status::napi_ok {
                    sys::napi_fatal_exception(env, error);
                }
            }
        }
        sys::napi_close_handle_scope(env, scope);
    }
}

unsafe extern "C" fn on_readable(handle: *mut UvPoll, _status: c_int, _events: c_int) {
    // SAFETY: `data` is the boxed Rc set by `Poller::new`, alive until the
    // close callback, which cannot run while this callback does.
    let shared = unsafe { &*PollHandle::data(handle).cast::<Rc<Shared>>() };
    // Unwinding into libuv would be undefined behaviour; nothing here is
    // expected to panic, but if it did, the exit batch is dropped instead.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shared.dispatch()));
}

unsafe extern "C" fn on_env_cleanup(hook: sys::napi_async_cleanup_hook_handle, data: *mut c_void) {
    // SAFETY: `data` is the boxed Rc, alive until the close callback that
    // `shut_down` schedules below.
    let shared = unsafe { &*data.cast::<Rc<Shared>>() };
    shared.cleanup_hook.set(hook);
    shared.shut_down();
}

unsafe extern "C" fn on_closed(handle: *mut UvPoll) {
    // SAFETY: libuv is done with the handle; its `data` is the boxed Rc
    // created in `Poller::new`, reclaimed exactly once, here.
    let shared = unsafe { Box::from_raw(PollHandle::data(handle).cast::<Rc<Shared>>()) };
    let hook = shared.cleanup_hook.replace(ptr::null_mut());
    if !hook.is_null() {
        // SAFETY: the hook was added by `Poller::new` and is removed once,
        // telling Node that this environment's cleanup is done.
        unsafe { sys::napi_remove_async_cleanup_hook(hook) };
    }
    // SAFETY: the handle came from `PollHandle::start` and is not used again.
    unsafe { PollHandle::free(handle) };
    drop(shared);
}
