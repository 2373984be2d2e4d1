//! Exit notifications on the JavaScript thread, from one engine with two
//! front-ends, chosen when the poller is created.
//!
//! The engine is the per-thread [`ExitWatcher`]: every watched pidfd in one
//! epoll instance, whose one descriptor polls readable while exits are
//! ready. When it does, `Shared::dispatch` runs on the JavaScript thread,
//! reads every ready exit natively and hands the batch to JavaScript in one
//! call, as numbers. What differs is who notices the readability:
//!
//! - **Node's loop** (`uv.rs`): the descriptor is registered with Node's
//!   libuv loop as a `uv_poll_t`, so libuv's own `epoll_wait` wakes for it.
//!   Measured against the alternatives (bench/, kill to a JavaScript
//!   callback, 2 vCPUs): this reaches JavaScript at 0.92-0.94x the time of
//!   child_process's 'exit' event, as fast as a `uv_poll_t` per pidfd, while
//!   keeping libuv's epoll set at one descriptor per thread (a `uv_poll_t`
//!   per pidfd would let libuv abort the process when
//!   `fs.epoll.max_user_watches` runs out; see `uv.rs`).
//! - **Portable** (`thread_wakeup.rs`): a thread of ours waits on the
//!   descriptor, collects the reports itself and wakes the JavaScript
//!   thread through a threadsafe function, which takes them from an inbox.
//!   Bun and Deno load Node-API addons but give them no libuv; this works
//!   wherever threadsafe functions do, at the cost of a thread hop per batch.
//!
//! Worker threads each load the module, and so get a `Poller` of their own.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::os::fd::{AsFd, AsRawFd};
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use pidset::{lock_watcher, Event, ExitWatcher, Report, SharedWatcher};

use crate::error::{napi_call_error, syscall_error, syscall_failure, uv_error};
use crate::exit_record::{self, records_len, ExitState, EXIT_RECORD_LEN};
use crate::napi_fault::injected_napi_fault;
use crate::native_child::NativeChild;
use crate::native_pidfd::NativePidFd;
use crate::thread_wakeup::{take_all, Inbox, StartFailure, ThreadWakeup};
use crate::uv::{PollHandle, UvPoll};

/// Watches pidfds for this thread's JavaScript and calls
/// `onExit(count, records, failures)` with the final exits of watched
/// processes (the core decides when an exit is final): how many there are,
/// a `Float64Array` whose first `count` exit records (`exit_record.rs`) are
/// theirs (the same array from batch to batch, so read it before the call
/// returns) and, when some failed, an array of their failure objects. A
/// process is reported once (`watch` again to re-arm). Not referenced by
/// default: whether a pending wait keeps the runtime alive is decided by
/// `ref()`/`unref()`.
#[napi]
pub struct Poller {
    shared: Rc<Shared>,
}

/// Who tells the poller that its watcher has reports.
enum Wakeup {
    /// Node's libuv loop, through a `uv_poll_t`.
    Loop(PollHandle),
    /// A thread of ours, through a threadsafe function.
    Thread(ThreadWakeup),
}

/// What the front-end's callbacks and the JavaScript object share. The
/// libuv handle owns one `Rc` (as its `data`) until its close callback; in
/// the portable front-end the threadsafe function owns one (its context)
/// until its finalizer, and the environment's cleanup hook another.
struct Shared {
    env: sys::napi_env,
    /// Shared with the portable front-end's thread, which collects from it.
    watcher: SharedWatcher,
    /// What that thread collected, for `dispatch` to take.
    inbox: Inbox,
    /// `None` once the environment is being torn down.
    wakeup: RefCell<Option<Wakeup>>,
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
    /// Starts watching: on the current thread's libuv loop, or, with
    /// `portable`, through a thread and a threadsafe function.
    #[napi(constructor)]
    // The callback's type is spelled out, not aliased: napi-rs generates its
    // TypeScript signature (binding.d.ts) from these tokens.
    #[allow(clippy::type_complexity)]
    pub fn new(
        env: Env,
        on_exit: Function<FnArgs<(u32, Float64Array, Option<Vec<Unknown>>)>, ()>,
        portable: Option<bool>,
    ) -> Result<Self> {
        let watcher = ExitWatcher::new().map_err(|e| syscall_error(&env, &e))?;
        let shared = Rc::new(Shared {
            env: env.raw(),
            watcher: Arc::new(Mutex::new(watcher)),
            inbox: Arc::new(Mutex::new(Vec::new())),
            wakeup: RefCell::new(None),
            callback: Cell::new(ptr::null_mut()),
            records: Cell::new(ptr::null_mut()),
            events: RefCell::new(Vec::new()),
            context: Cell::new(ptr::null_mut()),
            cleanup_hook: Cell::new(ptr::null_mut()),
        });
        shared.init_callback(&env, on_exit.raw())?;
        if portable.unwrap_or(false) {
            start_thread(&env, &shared, on_exit.raw())?;
        } else {
            start_loop(&env, &shared)?;
        }
        Ok(Self { shared })
    }

    /// Arms `pidfd` to be reported once, when its process exits.
    #[napi]
    pub fn watch(&self, env: Env, pidfd: &NativePidFd) -> Result<()> {
        let pidfd = pidfd.get(&env, "epoll_ctl")?;
        let result = lock_watcher(&self.shared.watcher).watch(pidfd);
        result.map_err(|e| syscall_error(&env, &e))
    }

    /// Arms `child` to be reported once, when it exits, and reaped then.
    #[napi]
    pub fn watch_child(&self, env: Env, child: &NativeChild) -> Result<()> {
        let child = child.get(&env, "epoll_ctl")?;
        let result = lock_watcher(&self.shared.watcher).watch_child(child);
        result.map_err(|e| syscall_error(&env, &e))
    }

    /// Stops watching `pidfd`; harmless if it is not watched or closed.
    #[napi]
    pub fn unwatch(&self, env: Env, pidfd: &NativePidFd) -> Result<()> {
        let Ok(pidfd) = pidfd.get(&env, "epoll_ctl") else {
            return Ok(());
        };
        lock_watcher(&self.shared.watcher).unwatch(pidfd);
        Ok(())
    }

    /// Keep the event loop alive (while any descriptor is watched).
    #[napi(js_name = "ref")]
    pub fn keep_alive(&self) {
        self.shared.set_ref(true);
    }

    /// Let the event loop exit even though descriptors are watched.
    #[napi(js_name = "unref")]
    pub fn let_exit(&self) {
        self.shared.set_ref(false);
    }
}

/// Starts the libuv front-end.
fn start_loop(env: &Env, shared: &Rc<Shared>) -> Result<()> {
    let event_loop = env.get_uv_event_loop()?;
    let data = Box::into_raw(Box::new(Rc::clone(shared))).cast::<c_void>();
    let epoll_fd = lock_watcher(&shared.watcher).as_fd().as_raw_fd();
    // SAFETY: the loop is this thread's live loop; the epoll descriptor is
    // owned by `shared`, which the handle keeps alive through `data`
    // until its close callback.
    match unsafe { PollHandle::start(event_loop, epoll_fd, data, on_readable) } {
        Ok(handle) => {
            handle.set_ref(false);
            *shared.wakeup.borrow_mut() = Some(Wakeup::Loop(handle));
        }
        Err((call, status)) => {
            // SAFETY: no handle holds `data` (a handle closed on the way
            // out frees only its own memory), so it is ours to reclaim.
            drop(unsafe { Box::from_raw(data.cast::<Rc<Shared>>()) });
            shared.release_callback();
            return Err(uv_error(env, call, status));
        }
    }
    let mut hook = ptr::null_mut();
    // SAFETY: a valid env, a hook with the right signature, and `data`,
    // which stays valid until the handle's close callback, which the hook
    // itself starts and which removes the hook.
    let status = unsafe {
        sys::napi_add_async_cleanup_hook(shared.env, Some(on_env_cleanup), data, &mut hook)
    };
    if status != sys::Status::napi_ok {
        shared.shut_down();
        return Err(napi_call_error(env, "napi_add_async_cleanup_hook", status));
    }
    shared.cleanup_hook.set(hook);
    Ok(())
}

/// Starts the portable front-end.
fn start_thread(env: &Env, shared: &Rc<Shared>, func: sys::napi_value) -> Result<()> {
    let context = Box::into_raw(Box::new(Rc::clone(shared))).cast::<c_void>();
    // SAFETY: on the env's thread, with the callback a live function;
    // `context` is reclaimed only by `on_thread_finalize`, or below when the
    // function was never created.
    let started = unsafe {
        ThreadWakeup::start(
            shared.env,
            func,
            Arc::clone(&shared.watcher),
            Arc::clone(&shared.inbox),
            context,
            on_ready,
            on_thread_finalize,
        )
    };
    match started {
        Ok(wakeup) => *shared.wakeup.borrow_mut() = Some(Wakeup::Thread(wakeup)),
        Err(failure) => {
            let err = match failure {
                StartFailure::NotCreated(call, status) => {
                    // SAFETY: nothing else holds `context`.
                    drop(unsafe { Box::from_raw(context.cast::<Rc<Shared>>()) });
                    napi_call_error(env, call, status)
                }
                StartFailure::Thread(err) => syscall_error(env, &err),
            };
            shared.release_callback();
            return Err(err);
        }
    }
    let data = Box::into_raw(Box::new(Rc::clone(shared))).cast::<c_void>();
    // SAFETY: a valid env and hook; `data` is reclaimed by the hook, or
    // below if it could not be added.
    let status = unsafe { sys::napi_add_env_cleanup_hook(shared.env, Some(on_env_exit), data) };
    if status != sys::Status::napi_ok {
        // SAFETY: the hook was not added, so nothing else holds `data`.
        drop(unsafe { Box::from_raw(data.cast::<Rc<Shared>>()) });
        shared.shut_down();
        return Err(napi_call_error(env, "napi_add_env_cleanup_hook", status));
    }
    Ok(())
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

    /// The environment is being torn down, and frees its own values: stops
    /// the front-end and forgets the references without deleting them
    /// (Deno's teardown has no handle scope, and deleting one there aborts).
    fn abandon(&self) {
        self.callback.set(ptr::null_mut());
        self.records.set(ptr::null_mut());
        self.context.set(ptr::null_mut());
        self.close_wakeup();
    }

    /// Whether a pending report keeps the runtime alive.
    fn set_ref(&self, keep_alive: bool) {
        match self.wakeup.borrow().as_ref() {
            Some(Wakeup::Loop(handle)) => handle.set_ref(keep_alive),
            // SAFETY: methods of the JavaScript object run on the env's thread.
            Some(Wakeup::Thread(wakeup)) => unsafe { wakeup.set_ref(self.env, keep_alive) },
            None => {}
        }
    }

    /// Stops watching for good: closes the front-end (whose callback frees
    /// it and its share of the state) and drops the JavaScript callback.
    fn shut_down(&self) {
        self.release_callback();
        self.close_wakeup();
    }

    /// Closes the front-end, once: its close callback (libuv) or the
    /// function's finalizer (thread) frees its share of the state.
    fn close_wakeup(&self) {
        match self.wakeup.borrow_mut().take() {
            Some(Wakeup::Loop(handle)) => handle.close(on_closed),
            Some(Wakeup::Thread(wakeup)) => wakeup.close(),
            None => {}
        }
    }

    /// Passes the exits that are ready to JavaScript: read here (libuv
    /// front-end) or taken from what the collector thread read (portable).
    /// One batch per loop turn: if more are ready, the epoll descriptor
    /// stays readable and libuv calls again on the next turn.
    fn dispatch(&self) {
        // Cannot fail: JavaScript cannot call back into a dispatch.
        let Ok(mut events) = self.events.try_borrow_mut() else {
            return;
        };
        match self.wakeup.borrow().as_ref() {
            Some(Wakeup::Thread(_)) => events.append(&mut take_all(&self.inbox)),
            _ => {
                lock_watcher(&self.watcher).collect(Some(Duration::ZERO), &mut events);
            }
        }
        if !events.is_empty() && !self.callback.get().is_null() {
            // SAFETY: called on the env's thread from a front-end callback,
            // with the references and async context still alive (all are
            // released only by `shut_down`, which also stops these calls).
            if !unsafe { self.call_on_exit(&events) } {
                // The exits were disarmed by their reports: dropped here,
                // their waits would hang. The watcher keeps them and polls
                // readable, so they come again (next loop turn, or from
                // the collector thread).
                lock_watcher(&self.watcher).give_back(&mut events);
            }
        }
        // Our shares of the descriptors go now: a handle closed during the
        // call closes its descriptor here.
        events.clear();
    }

    /// Calls the JavaScript callback with a batch through
    /// `napi_make_callback`, which, unlike a plain function call, runs the
    /// microtask and nextTick queues afterwards: without it, promises
    /// settled by the callback would wait for some unrelated callback to
    /// drain them. Returns whether the batch reached JavaScript (an
    /// exception thrown by the callback counts: it ran).
    ///
    /// # Safety
    /// Must run on the env's thread outside any JavaScript frame, with live
    /// references and async context.
    unsafe fn call_on_exit(&self, events: &[Event]) -> bool {
        let env = self.env;
        let mut scope = ptr::null_mut();
        let mut delivered = false;
        // SAFETY: per this function's contract; every value created below
        // lives in this handle scope, which is closed before returning.
        unsafe {
            if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
                return false;
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
                let status = match injected_napi_fault("napi_make_callback") {
                    Some(status) => status,
                    None => sys::napi_make_callback(
                        env,
                        self.context.get(),
                        recv,
                        func,
                        argv.len(),
                        argv.as_ptr(),
                        &mut result,
                    ),
                };
                delivered =
                    status == sys::Status::napi_ok || status == sys::Status::napi_pending_exception;
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
        delivered
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

unsafe extern "C" fn on_ready(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    // The function is being torn down: nothing may be called.
    if env.is_null() || context.is_null() {
        return;
    }
    // SAFETY: `context` is the boxed Rc given to the threadsafe function,
    // reclaimed only by its finalizer, which cannot run during this call.
    let shared = unsafe { &*context.cast::<Rc<Shared>>() };
    // Unwinding into the runtime would be undefined behaviour; see
    // `on_readable`.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shared.dispatch()));
}

unsafe extern "C" fn on_thread_finalize(
    _env: sys::napi_env,
    data: *mut c_void,
    _hint: *mut c_void,
) {
    // SAFETY: the boxed Rc given as the function's finalize data (and
    // context), reclaimed exactly once, here, after its last call.
    drop(unsafe { Box::from_raw(data.cast::<Rc<Shared>>()) });
}

unsafe extern "C" fn on_env_exit(data: *mut c_void) {
    // SAFETY: the boxed Rc added with the hook in `start_thread`, reclaimed
    // exactly once, here (the hook runs once and is never removed).
    let shared = unsafe { Box::from_raw(data.cast::<Rc<Shared>>()) };
    shared.abandon();
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
