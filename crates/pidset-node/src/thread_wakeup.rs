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

use napi::sys;
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

/// The called-on-the-JavaScript-thread side of a threadsafe function:
/// `napi_threadsafe_function_call_js`.
pub type CallJs = unsafe extern "C" fn(
    env: sys::napi_env,
    js_callback: sys::napi_value,
    context: *mut c_void,
    data: *mut c_void,
);

/// Runs when the threadsafe function is gone: `napi_finalize`.
pub type Finalize =
    unsafe extern "C" fn(env: sys::napi_env, finalize_data: *mut c_void, hint: *mut c_void);

/// A collector thread and the threadsafe function it calls. It owns both:
/// [`close`](Self::close) consumes it, joining the thread before releasing
/// the function, so the function is never called once released.
pub struct ThreadWakeup {
    tsfn: sys::napi_threadsafe_function,
    thread: ExitCollector,
}

impl ThreadWakeup {
    /// Creates a threadsafe function over `func` whose calls run `call_js`
    /// with `context` on the env's thread, and a thread that collects
    /// `watcher`'s reports into `inbox`, calling the function whenever the
    /// inbox stops being empty. `finalize` runs with `context` once the
    /// function is released. It starts unreferenced (see
    /// [`set_ref`](Self::set_ref)).
    ///
    /// # Safety
    /// Must run on the env's thread; `func` must be a live function value;
    /// `context` must stay valid until `finalize` runs.
    pub unsafe fn start(
        env: sys::napi_env,
        func: sys::napi_value,
        watcher: SharedWatcher,
        inbox: Inbox,
        context: *mut c_void,
        call_js: CallJs,
        finalize: Finalize,
    ) -> Result<Self, StartFailure> {
        let mut name = ptr::null_mut();
        let mut tsfn = ptr::null_mut();
        // SAFETY: per this function's contract; valid out-pointers. The
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
                    context,
                    Some(finalize),
                    context,
                    Some(call_js),
                    &mut tsfn,
                );
            }
            status
        };
        if status != sys::Status::napi_ok {
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
            Ok(thread) => Ok(Self { tsfn, thread }),
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
    ///
    /// # Safety
    /// Must run on the env's thread.
    pub unsafe fn set_ref(&self, env: sys::napi_env, keep_alive: bool) {
        // SAFETY: a live function (released only by `close`, which consumes
        // `self`), on the env's thread per the contract.
        unsafe {
            if keep_alive {
                sys::napi_ref_threadsafe_function(env, self.tsfn);
            } else {
                sys::napi_unref_threadsafe_function(env, self.tsfn);
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
    /// or the call failed): `finalize` will never run.
    NotCreated(&'static str, sys::napi_status),
    /// The thread could not be started; the function was released, so
    /// `finalize` runs later.
    Thread(pidset::Error),
}
