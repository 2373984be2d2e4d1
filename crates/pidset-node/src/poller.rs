//! Exit notifications on Node's own event loop.
//!
//! Why this design: the per-thread [`ExitWatcher`] holds every watched pidfd
//! in one epoll instance, whose one descriptor is registered with Node's
//! libuv loop as a `uv_poll_t`. When processes exit, libuv's own
//! `epoll_wait` wakes, the callback below runs on the JavaScript thread,
//! reads every ready exit natively and hands the batch to JavaScript in one
//! call, as numbers. Measured against the alternatives (bench/ and the
//! pilot in ../shared/reference, kill to a JavaScript callback, 2 vCPUs):
//! this wake-up path reaches JavaScript at 0.92-0.94x the time of
//! child_process's 'exit' event, as fast as a `uv_poll_t` per pidfd
//! (0.9x in the pilot), while keeping libuv's epoll set at one descriptor
//! per thread (a `uv_poll_t` per pidfd would let libuv abort the process
//! when `fs.epoll.max_user_watches` runs out; see `uv.rs`). A thread blocked
//! in `epoll_wait` calling a threadsafe function costs a thread hop per
//! exit (1.7x), and an `AsyncTask` per wait would occupy a libuv threadpool
//! thread each. Worker threads each load the module, and so get a `Poller`
//! on their own loop.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::os::fd::{AsFd, AsRawFd};
use std::ptr;
use std::rc::Rc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use pidset::{Event, ExitWatcher, Report};

use crate::error::{napi_call_error, syscall_error, syscall_failure, uv_error};
use crate::exit_record::{self, records_len, ExitState, EXIT_RECORD_LEN};
use crate::native_pidfd::NativePidFd;
use crate::uv::{PollHandle, UvPoll};

/// Watches pidfds on this thread's event loop and calls
/// `onExit(count, records, failures)` with the exits of watched processes:
/// how many there are, a `Float64Array` whose first `count` exit records
/// (`exit_record.rs`) are theirs (the same array from batch to batch, so
/// read it before the call returns) and, when some failed, an array of
/// their failure objects. A process is reported once (`watch`
/// again to re-arm), except one in state `Exiting`, which stays watched for
/// its reap. Not referenced by default: whether a pending wait keeps the
/// loop alive is decided by `ref()`/`unref()`.
#[napi]
pub struct Poller {
    shared: Rc<Shared>,
}

/// What the libuv callbacks and the JavaScript object share. The libuv
/// handle owns one `Rc` (as its `data`) until its close callback.
struct Shared {
    env: sys::napi_env,
    watcher: RefCell<ExitWatcher>,
    /// `None` once the environment is being torn down.
    handle: RefCell<Option<PollHandle>>,
    callback: Cell<sys::napi_ref>,
    /// The `Float64Array` that batches are written into (see `records`).
    records: Cell<sys::napi_ref>,
    /// Reused from batch to batch, so a batch allocates nothing natively.
    events: RefCell<Vec<Event>>,
    context: Cell<sys::napi_async_context>,
    cleanup_hook: Cell<sys::napi_async_cleanup_hook_handle>,
}

#[napi]
impl Poller {
    /// Starts watching on the current thread's event loop.
    #[napi(
        constructor,
        ts_args_type = "onExit: (count: number, records: Float64Array, failures: Array<Error> | undefined) => void"
    )]
    pub fn new(env: Env, on_exit: Function<Unknown, ()>) -> Result<Self> {
        let watcher = ExitWatcher::new().map_err(|e| syscall_error(&env, &e))?;
        let event_loop = env.get_uv_event_loop()?;
        let raw_env = env.raw();
        let shared = Rc::new(Shared {
            env: raw_env,
            watcher: RefCell::new(watcher),
            handle: RefCell::new(None),
            callback: Cell::new(ptr::null_mut()),
            records: Cell::new(ptr::null_mut()),
            events: RefCell::new(Vec::new()),
            context: Cell::new(ptr::null_mut()),
            cleanup_hook: Cell::new(ptr::null_mut()),
        });
        shared.init_callback(&env, on_exit.raw())?;

        let data = Box::into_raw(Box::new(Rc::clone(&shared))).cast::<c_void>();
        let epoll_fd = shared.watcher.borrow().as_fd().as_raw_fd();
        // SAFETY: the loop is this thread's live loop; the epoll descriptor is
        // owned by `shared`, which the handle keeps alive through `data`
        // until its close callback.
        match unsafe { PollHandle::start(event_loop, epoll_fd, data, on_readable) } {
            Ok(handle) => {
                handle.set_ref(false);
                *shared.handle.borrow_mut() = Some(handle);
            }
            Err((call, status)) => {
                // SAFETY: no handle holds `data` (a handle closed on the way
                // out frees only its own memory), so it is ours to reclaim.
                drop(unsafe { Box::from_raw(data.cast::<Rc<Shared>>()) });
                shared.release_callback();
                return Err(uv_error(&env, call, status));
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
            return Err(napi_call_error(&env, "napi_add_async_cleanup_hook", status));
        }
        shared.cleanup_hook.set(hook);
        Ok(Self { shared })
    }

    /// Arms `pidfd` to be reported once, when its process exits.
    #[napi]
    pub fn watch(&self, env: Env, pidfd: &NativePidFd) -> Result<()> {
        let pidfd = pidfd.get(&env, "epoll_ctl")?;
        let mut watcher = self.shared.watcher.try_borrow_mut().map_err(|_| busy())?;
        watcher.watch(pidfd).map_err(|e| syscall_error(&env, &e))
    }

    /// Stops watching `pidfd`; harmless if it is not watched or closed.
    #[napi]
    pub fn unwatch(&self, env: Env, pidfd: &NativePidFd) -> Result<()> {
        let Ok(pidfd) = pidfd.get(&env, "epoll_ctl") else {
            return Ok(());
        };
        let mut watcher = self.shared.watcher.try_borrow_mut().map_err(|_| busy())?;
        watcher.unwatch(pidfd);
        Ok(())
    }

    /// Keep the event loop alive (while any descriptor is watched).
    #[napi(js_name = "ref")]
    pub fn keep_alive(&self) {
        if let Some(handle) = self.shared.handle.borrow().as_ref() {
            handle.set_ref(true);
        }
    }

    /// Let the event loop exit even though descriptors are watched.
    #[napi(js_name = "unref")]
    pub fn let_exit(&self) {
        if let Some(handle) = self.shared.handle.borrow().as_ref() {
            handle.set_ref(false);
        }
    }
}

/// The watcher is borrowed only inside these methods and inside `dispatch`,
/// which releases it before calling JavaScript, so this cannot happen.
fn busy() -> napi::Error {
    napi::Error::new(Status::GenericFailure, "the poller is busy")
}

impl Shared {
    /// References the JavaScript callback and the buffer batches are written
    /// into, and creates the async context in which the callback is called,
    /// so that async_hooks and AsyncLocalStorage see exits as coming from a
    /// resource of their own.
    fn init_callback(&self, env: &Env, callback: sys::napi_value) -> Result<()> {
        let mut reference = ptr::null_mut();
        let mut records_ref = ptr::null_mut();
        let mut resource = ptr::null_mut();
        let mut name = ptr::null_mut();
        let mut context = ptr::null_mut();
        // SAFETY: plain Node-API calls on the live env of the current call,
        // each with valid out-pointers.
        let status = unsafe {
            let mut status = sys::napi_create_reference(self.env, callback, 1, &mut reference);
            if status == sys::Status::napi_ok {
                status = match new_records(self.env, records_len(SHARED_BATCH)) {
                    Some((records, _)) => {
                        sys::napi_create_reference(self.env, records, 1, &mut records_ref)
                    }
                    None => sys::Status::napi_generic_failure,
                };
            }
            if status == sys::Status::napi_ok {
                status = sys::napi_create_object(self.env, &mut resource);
            }
            if status == sys::Status::napi_ok {
                status = sys::napi_create_string_utf8(self.env, c"pidset".as_ptr(), 6, &mut name);
            }
            if status == sys::Status::napi_ok {
                status = sys::napi_async_init(self.env, resource, name, &mut context);
            }
            status
        };
        self.callback.set(reference);
        self.records.set(records_ref);
        self.context.set(context);
        if status == sys::Status::napi_ok {
            Ok(())
        } else {
            self.release_callback();
            Err(napi_call_error(env, "napi_async_init", status))
        }
    }

    fn release_callback(&self) {
        let references = [
            self.callback.replace(ptr::null_mut()),
            self.records.replace(ptr::null_mut()),
        ];
        let context = self.context.replace(ptr::null_mut());
        // SAFETY: each is released at most once (they are swapped out for
        // null), on the env's own thread, while the env is still alive.
        unsafe {
            for reference in references {
                if !reference.is_null() {
                    sys::napi_delete_reference(self.env, reference);
                }
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
        if let Some(handle) = self.handle.borrow_mut().take() {
            handle.close(on_closed);
        }
    }

    /// Reads the exits that are ready and passes them to JavaScript. One
    /// batch per loop turn: if more are ready, the epoll descriptor stays
    /// readable and libuv calls again on the next turn.
    fn dispatch(&self) {
        // Neither borrow can fail: JavaScript cannot call back into a
        // dispatch, and the watcher is borrowed only while it is called.
        let Ok(mut events) = self.events.try_borrow_mut() else {
            return;
        };
        match self.watcher.try_borrow_mut() {
            Ok(mut watcher) => watcher.collect(Some(Duration::ZERO), &mut events),
            Err(_) => return,
        };
        if !events.is_empty() && !self.callback.get().is_null() {
            // SAFETY: called on the env's thread from a libuv callback, with
            // the references and async context still alive (all are
            // released only by `shut_down`, which also stops these calls).
            unsafe { self.call_on_exit(&events) };
        }
        // Our shares of the descriptors go now: a handle closed during the
        // call closes its descriptor here.
        events.clear();
    }

    /// Calls the JavaScript callback with a batch through
    /// `napi_make_callback`, which, unlike a plain function call, runs the
    /// microtask and nextTick queues afterwards: without it, promises
    /// settled by the callback would wait for some unrelated callback to
    /// drain them.
    ///
    /// # Safety
    /// Must run on the env's thread outside any JavaScript frame, with live
    /// references and async context.
    unsafe fn call_on_exit(&self, events: &[Event]) {
        let env = self.env;
        let mut scope = ptr::null_mut();
        // SAFETY: per this function's contract; every value created below
        // lives in this handle scope, which is closed before returning.
        unsafe {
            if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
                return;
            }
            let mut func = ptr::null_mut();
            let mut recv = ptr::null_mut();
            let ok = sys::napi_get_reference_value(env, self.callback.get(), &mut func)
                == sys::Status::napi_ok
                && !func.is_null()
                // napi_make_callback wants an object as `this`.
                && sys::napi_get_global(env, &mut recv) == sys::Status::napi_ok;
            let args = if ok {
                batch_arguments(env, self.records.get(), events)
            } else {
                None
            };
            if let Some(argv) = args {
                let mut result = ptr::null_mut();
                let status = sys::napi_make_callback(
                    env,
                    self.context.get(),
                    recv,
                    func,
                    argv.len(),
                    argv.as_ptr(),
                    &mut result,
                );
                if status == sys::Status::napi_pending_exception {
                    // An exception escaping the callback is the program's, as
                    // if thrown from an event handler: report it the same way.
                    let mut error = ptr::null_mut();
                    if sys::napi_get_and_clear_last_exception(env, &mut error)
                        == sys::Status::napi_ok
                    {
                        sys::napi_fatal_exception(env, error);
                    }
                }
            }
            sys::napi_close_handle_scope(env, scope);
        }
    }
}

/// How many records the shared buffer holds: a full `epoll_wait` batch
/// (see `ExitWatcher::collect`). Only a failing `epoll_wait`, which reports
/// every watched process at once, can need more, and gets a buffer of its own.
const SHARED_BATCH: usize = 256;

/// A new `Float64Array` of `len` doubles and its data.
///
/// # Safety
/// Must run on the env's thread inside an open handle scope.
unsafe fn new_records(env: sys::napi_env, len: usize) -> Option<(sys::napi_value, *mut f64)> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut records = ptr::null_mut();
    // SAFETY: valid out-pointers on the live env.
    let ok = unsafe {
        sys::napi_create_arraybuffer(env, len * 8, &mut data, &mut buffer) == sys::Status::napi_ok
            && sys::napi_create_typedarray(
                env,
                sys::TypedarrayType::float64_array,
                len,
                buffer,
                0,
                &mut records,
            ) == sys::Status::napi_ok
    };
    (ok && !data.is_null()).then_some((records, data.cast::<f64>()))
}

/// The `Float64Array` to write `len` doubles into, and its data: the shared
/// one when it is long enough (so that a batch allocates nothing), else a
/// new one.
///
/// # Safety
/// Must run on the env's thread inside an open handle scope, with `shared`
/// a live reference (or null).
unsafe fn records_for(
    env: sys::napi_env,
    shared: sys::napi_ref,
    len: usize,
) -> Option<(sys::napi_value, *mut f64)> {
    let mut value = ptr::null_mut();
    let mut kind = sys::TypedarrayType::int8_array;
    let mut length = 0;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0;
    // SAFETY: valid out-pointers; `shared` is live per the contract. The
    // array is only ever held by this poller and by the JavaScript module
    // that reads it, which never detaches it; were it detached, its length
    // would read 0 and a new array would be used.
    let shared_ok = unsafe {
        !shared.is_null()
            && sys::napi_get_reference_value(env, shared, &mut value) == sys::Status::napi_ok
            && !value.is_null()
            && sys::napi_get_typedarray_info(
                env,
                value,
                &mut kind,
                &mut length,
                &mut data,
                &mut buffer,
                &mut offset,
            ) == sys::Status::napi_ok
    };
    if shared_ok && kind == sys::TypedarrayType::float64_array && length >= len && !data.is_null() {
        return Some((value, data.cast::<f64>()));
    }
    // SAFETY: per this function's contract.
    unsafe { new_records(env, len) }
}

/// The callback's arguments for `events`: how many records there are, the
/// `Float64Array` holding them, and the failures array (or `undefined`
/// when nothing failed).
///
/// # Safety
/// Must run on the env's thread inside an open handle scope, with
/// `shared_records` a live reference (or null).
unsafe fn batch_arguments(
    env: sys::napi_env,
    shared_records: sys::napi_ref,
    events: &[Event],
) -> Option<[sys::napi_value; 3]> {
    let len = records_len(events.len());
    let count = u32::try_from(events.len()).ok()?;
    // SAFETY: per this function's contract.
    let (records, data) = unsafe { records_for(env, shared_records, len) }?;
    // SAFETY: the array's data holds at least `len` doubles, 8-byte aligned
    // as V8 allocates array buffers, and no JavaScript runs while it is
    // written.
    let out = unsafe { std::slice::from_raw_parts_mut(data, len) };
    let js_env = Env::from_raw(env);
    let mut failures: Option<Array> = None;
    let stride = EXIT_RECORD_LEN as usize;
    for (event, slot) in events.iter().zip(out.chunks_exact_mut(stride)) {
        let fd = event.pidfd.as_raw_fd();
        match &event.report {
            Report::Exited(info) => exit_record::write(slot, fd, ExitState::Exited, Some(info)),
            Report::Exiting(info) => exit_record::write(slot, fd, ExitState::Exiting, Some(info)),
            Report::Failed(err) => {
                let list = match failures.as_mut() {
                    Some(list) => list,
                    None => failures.insert(js_env.create_array(0).ok()?),
                };
                let index = list.len() as usize;
                list.insert(syscall_failure(&js_env, err).ok()?).ok()?;
                exit_record::write_failure(slot, fd, index);
            }
        }
    }
    let mut count_value = ptr::null_mut();
    let mut second = ptr::null_mut();
    // SAFETY: valid out-pointers on the live env.
    unsafe {
        if sys::napi_create_uint32(env, count, &mut count_value) != sys::Status::napi_ok {
            return None;
        }
        match failures {
            Some(list) => second = list.raw(),
            None => {
                if sys::napi_get_undefined(env, &mut second) != sys::Status::napi_ok {
                    return None;
                }
            }
        }
    }
    Some([count_value, records, second])
}

unsafe extern "C" fn on_readable(handle: *mut UvPoll, _status: c_int, _events: c_int) {
    // SAFETY: `data` is the boxed Rc set by `Poller::new`, alive until the
    // close callback, which cannot run while this callback does.
    let shared = unsafe { &*PollHandle::data(handle).cast::<Rc<Shared>>() };
    // Unwinding into libuv would be undefined behaviour; nothing here is
    // expected to panic, but if it did, the batch is dropped instead.
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
