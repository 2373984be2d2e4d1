//! The portable way to receive exits: a thread (`pidset::ExitCollector`)
//! collects the watcher's reports as processes exit, queues each batch in
//! an inbox and wakes the JavaScript thread through a Node-API threadsafe
//! function, which every runtime that loads Node-API addons implements
//! (Node, Bun, Deno), libuv or not. It costs a thread hop per batch, which
//! is why Node itself uses the libuv front-end (`uv.rs`) unless told
//! otherwise.

use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex};

use napi::{sys, JsValue};
use pidset::{Event, ExitCollector, SharedWatcher};

use crate::napi_fault::injected_napi_fault;

/// Batches collected and not yet taken by the JavaScript thread.
pub type Inbox = Arc<Mutex<Vec<Event>>>;

/// Takes everything in `inbox`.
pub fn take_all(inbox: &Mutex<Vec<Event>>) -> Vec<Event> {
    // Poisoned only by a panic while pushing, which cannot happen; the
    // events are whole either way.
    std::mem::take(&mut *inbox.lock().unwrap_or_else(|p| p.into_inner()))
}

/// A threadsafe function handle that may be called from any thread.
struct CallHandle(sys::napi_threadsafe_function);

// SAFETY: Node-API documents `napi_call_threadsafe_function` as callable
// from any thread; it is the only use made of the handle off the JavaScript
// thread, and the handle stays valid until released, which happens only
// after the thread using it has been joined (`ThreadWakeup::close`).
unsafe impl Send for CallHandle {}

/// What the threadsafe function's context points to: the value handed to
/// its callbacks and the callbacks themselves.
type Context<T> = (T, fn(&T), fn(T));

/// A collector thread and the threadsafe function it calls. It owns both:
/// [`close`](Self::close) consumes it, joining the thread before releasing
/// the function, so the function is never called once released.
pub struct ThreadWakeup {
    env: sys::napi_env,
    tsfn: sys::napi_threadsafe_function,
    thread: ExitCollector,
}

impl ThreadWakeup {
    /// Creates a threadsafe function over `func` whose calls run
    /// `on_ready(&value)` on the env's thread, and a thread that collects
    /// `watcher`'s reports into `inbox`, calling the function whenever the
    /// inbox stops being empty. `on_finalize(value)` runs once the function
    /// is released, if it was created. It starts unreferenced (see
    /// [`set_ref`](Self::set_ref)).
    pub fn start<'env, T: 'static, F: JsValue<'env>>(
        func: &F,
        watcher: SharedWatcher,
        inbox: Inbox,
        value: T,
        on_ready: fn(&T),
        on_finalize: fn(T),
    ) -> Result<Self, StartFailure> {
        let (env, func) = (func.value().env, func.raw());
        let context = Box::into_raw(Box::new((value, on_ready, on_finalize)));
        let mut name = ptr::null_mut();
        let mut tsfn = ptr::null_mut();
        // SAFETY: a live function value of a live env (napi-rs's contract
        // for `F`), on its thread; valid out-pointers. `context` is freed
        // by `finalize::<T>`, which runs once, after the last call. The
        // queue is unbounded (0), so a call never blocks or fails as full;
        // one thread (ours) uses it.
        let status = unsafe {
            let mut status = sys::napi_create_string_utf8(env, c"pidset".as_ptr(), 6, &mut name);
            if let Some(injected) = injected_napi_fault("napi_create_threadsafe_function") {
                status = injected;
            } else if status == sys::Status::napi_ok {
                status = sys::napi_create_threadsafe_function(
                    env,
                    func,
                    ptr::null_mut(),
                    name,
                    0,
                    1,
                    context.cast(),
                    Some(finalize::<T>),
                    context.cast(),
                    Some(call_js::<T>),
                    &mut tsfn,
                );
            }
            status
        };
        if status != sys::Status::napi_ok {
            // SAFETY: no function was made, so nothing else holds `context`.
            drop(unsafe { Box::from_raw(context) });
            return Err(StartFailure::NotCreated(
                "napi_create_threadsafe_function",
                status,
            ));
        }
        // SAFETY: a live function on the env's thread.
        unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
        let handle = CallHandle(tsfn);
        let started = ExitCollector::start(watcher, move |mut batch| {
            let handle = &handle;
            let was_empty = {
                let mut queued = inbox.lock().unwrap_or_else(|p| p.into_inner());
                let was_empty = queued.is_empty();
                queued.append(&mut batch);
                was_empty
            };
            // A call is on its way already: the JavaScript thread takes the
            // whole inbox when it runs.
            if !was_empty {
                return true;
            }
            // SAFETY: see `CallHandle`. Non-blocking on an unbounded queue:
            // it fails only once the function is closing, which ends the
            // thread.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    handle.0,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
            status == sys::Status::napi_ok
        });
        match started {
            Ok(thread) => Ok(Self { env, tsfn, thread }),
            Err(err) => {
                // SAFETY: no thread uses the function; released once.
                unsafe {
                    sys::napi_release_threadsafe_function(
                        tsfn,
                        sys::ThreadsafeFunctionReleaseMode::abort,
                    )
                };
                Err(StartFailure::Thread(err))
            }
        }
    }

    /// Whether the function keeps the runtime alive.
    pub fn set_ref(&self, keep_alive: bool) {
        // SAFETY: a live function (released only by `close`, which consumes
        // `self`), on the env's thread (`self` is not `Send`).
        unsafe {
            if keep_alive {
                sys::napi_ref_threadsafe_function(self.env, self.tsfn);
            } else {
                sys::napi_unref_threadsafe_function(self.env, self.tsfn);
            }
        }
    }

    /// Stops the thread, then releases the function (whose `finalize` runs
    /// later, on the env's thread).
    pub fn close(self) {
        self.thread.stop();
        // SAFETY: the only thread that called it has been joined; released
        // once (this consumes `self`).
        unsafe {
            sys::napi_release_threadsafe_function(
                self.tsfn,
                sys::ThreadsafeFunctionReleaseMode::abort,
            )
        };
    }
}

/// Why [`ThreadWakeup::start`] failed.
pub enum StartFailure {
    /// The threadsafe function could not be created (the runtime has none,
    /// or the call failed): `on_finalize` will never run.
    NotCreated(&'static str, sys::napi_status),
    /// The thread could not be started; the function was released, so
    /// `on_finalize` runs later.
    Thread(pidset::Error),
}

unsafe extern "C" fn call_js<T>(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    // The function is being torn down: nothing may be called.
    if env.is_null() || context.is_null() {
        return;
    }
    // SAFETY: the context box made by `start` for this `T`, freed only by
    // `finalize`, which cannot run during this call.
    let (value, on_ready, _) = unsafe { &*context.cast::<Context<T>>() };
    // Unwinding into the runtime would be undefined behaviour; nothing here
    // is expected to panic, but if it did, the call is dropped instead.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_ready(value)));
}

unsafe extern "C" fn finalize<T>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: the context box made by `start` for this `T`, given as the
    // function's finalize data and reclaimed exactly once, here, after its
    // last call.
    let (value, _, on_finalize) = *unsafe { Box::from_raw(data.cast::<Context<T>>()) };
    // See `call_js`.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_finalize(value)));
}
