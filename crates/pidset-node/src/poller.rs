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

use std::cell::RefCell;
use std::os::fd::{AsFd, AsRawFd};
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pidset::{lock_watcher, Event, ExitWatcher, Report, SharedWatcher};

use crate::error::{napi_call_error, syscall_error, syscall_failure, uv_error};
use crate::exit_record::{self, records_len, ExitState, EXIT_RECORD_LEN};
use crate::native_child::NativeChild;
use crate::native_pidfd::NativePidFd;
use crate::node_api::{
    on_env_exit, persistent_float64_array, AsyncCleanupHook, AsyncResource, CallOutcome,
    HandleScope, Local, NapiFailure, Persistent,
};
use crate::thread_wakeup::{take_all, Inbox, StartFailure, ThreadWakeup};
use crate::uv::PollHandle;

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
    Loop(PollHandle<Rc<Shared>>),
    /// A thread of ours, through a threadsafe function.
    Thread(ThreadWakeup),
}

/// What the front-end's callbacks and the JavaScript object share. The
/// libuv handle holds one `Rc` until its close callback; in the portable
/// front-end the threadsafe function holds one until its finalizer, and
/// the environment's cleanup hook another.
struct Shared {
    env: Env,
    /// Shared with the portable front-end's thread, which collects from it.
    watcher: SharedWatcher,
    /// What that thread collected, for `dispatch` to take.
    inbox: Inbox,
    /// `None` once the environment is being torn down.
    wakeup: RefCell<Option<Wakeup>>,
    /// The JavaScript side: `None` once shut down or abandoned.
    js: RefCell<Option<Callback>>,
    /// Reused from batch to batch, so a batch allocates nothing natively.
    events: RefCell<Vec<Event>>,
    /// The batch's records, reused likewise, copied into `Callback::records`.
    records: RefCell<Vec<f64>>,
    /// Node's teardown of the environment waits for the libuv handle to
    /// close (libuv front-end only).
    cleanup_hook: RefCell<Option<AsyncCleanupHook<Weak<Shared>>>>,
}

/// The JavaScript callback and what it is called with.
struct Callback {
    function: Persistent,
    /// The `Float64Array` that batches are written into (see `records`).
    records: Persistent,
    /// Exits come from a resource of their own, as async_hooks and
    /// AsyncLocalStorage see them.
    context: AsyncResource,
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
        let callback = Callback::new(&env, &on_exit)
            .map_err(|(call, status)| napi_call_error(&env, call, status))?;
        let shared = Rc::new(Shared {
            env,
            watcher: Arc::new(Mutex::new(watcher)),
            inbox: Arc::new(Mutex::new(Vec::new())),
            wakeup: RefCell::new(None),
            js: RefCell::new(Some(callback)),
            events: RefCell::new(Vec::new()),
            records: RefCell::new(Vec::new()),
            cleanup_hook: RefCell::new(None),
        });
        if portable.unwrap_or(false) {
            start_thread(&env, &shared, &on_exit)?;
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
    // The handle watches a descriptor of its own for the watcher's epoll
    // instance, so that it can close it once libuv is done with it.
    let epoll_fd = lock_watcher(&shared.watcher).as_fd().try_clone_to_owned();
    let epoll_fd = epoll_fd.map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        syscall_error(env, &pidset::Error::new(errno, "fcntl", None))
    });
    let handle = epoll_fd.and_then(|fd| {
        PollHandle::start(env, fd, Rc::clone(shared), |shared| shared.dispatch())
            .map_err(|(call, status)| uv_error(env, call, status))
    });
    match handle {
        Ok(handle) => {
            handle.set_ref(false);
            *shared.wakeup.borrow_mut() = Some(Wakeup::Loop(handle));
        }
        Err(err) => {
            shared.js.borrow_mut().take();
            return Err(err);
        }
    }
    match AsyncCleanupHook::add(env, Rc::downgrade(shared), on_env_cleanup) {
        Ok(hook) => *shared.cleanup_hook.borrow_mut() = Some(hook),
        Err((call, status)) => {
            shared.shut_down();
            return Err(napi_call_error(env, call, status));
        }
    }
    Ok(())
}

/// Starts the portable front-end.
fn start_thread<'env, F: JsValue<'env>>(env: &Env, shared: &Rc<Shared>, func: &F) -> Result<()> {
    let started = ThreadWakeup::start(
        func,
        Arc::clone(&shared.watcher),
        Arc::clone(&shared.inbox),
        Rc::clone(shared),
        |shared| shared.dispatch(),
        drop,
    );
    match started {
        Ok(wakeup) => *shared.wakeup.borrow_mut() = Some(Wakeup::Thread(wakeup)),
        Err(failure) => {
            shared.js.borrow_mut().take();
            return Err(match failure {
                StartFailure::NotCreated(call, status) => napi_call_error(env, call, status),
                StartFailure::Thread(err) => syscall_error(env, &err),
            });
        }
    }
    if let Err((call, status)) = on_env_exit(env, Rc::clone(shared), |shared| shared.abandon()) {
        shared.shut_down();
        return Err(napi_call_error(env, call, status));
    }
    Ok(())
}

/// The libuv front-end's environment is being torn down: stop, and let the
/// teardown go on once the handle has closed (`on_closed`).
fn on_env_cleanup(shared: &Weak<Shared>) {
    if let Some(shared) = shared.upgrade() {
        shared.shut_down();
    }
}

/// The libuv handle has closed: the environment's teardown, if it is
/// waiting, may go on.
fn on_closed(shared: Rc<Shared>) {
    if let Some(hook) = shared.cleanup_hook.borrow_mut().take() {
        hook.done();
    }
}

impl Callback {
    /// References the JavaScript callback and the buffer batches are
    /// written into, and creates the async context it is called in.
    fn new<'env, F: JsValue<'env>>(
        env: &Env,
        function: &F,
    ) -> std::result::Result<Self, NapiFailure> {
        Ok(Self {
            function: Persistent::new(function)?,
            records: persistent_float64_array(env, records_len(SHARED_BATCH))?,
            context: AsyncResource::new(env)?,
        })
    }

    /// Forgets every handle without releasing it (see
    /// [`Persistent::abandon`]).
    fn abandon(self) {
        self.function.abandon();
        self.records.abandon();
        self.context.abandon();
    }
}

impl Shared {
    /// The environment is being torn down, and frees its own values: stops
    /// the front-end and forgets the references without deleting them
    /// (Deno's teardown has no handle scope, and deleting one there aborts).
    fn abandon(&self) {
        if let Some(callback) = self.js.borrow_mut().take() {
            callback.abandon();
        }
        self.close_wakeup();
    }

    /// Whether a pending report keeps the runtime alive.
    fn set_ref(&self, keep_alive: bool) {
        match self.wakeup.borrow().as_ref() {
            Some(Wakeup::Loop(handle)) => handle.set_ref(keep_alive),
            Some(Wakeup::Thread(wakeup)) => wakeup.set_ref(keep_alive),
            None => {}
        }
    }

    /// Stops watching for good: closes the front-end (whose callback frees
    /// it and its share of the state) and drops the JavaScript callback.
    fn shut_down(&self) {
        drop(self.js.borrow_mut().take());
        self.close_wakeup();
    }

    /// Closes the front-end, once: its close callback (libuv) or the
    /// function's finalizer (thread) frees its share of the state.
    fn close_wakeup(&self) {
        let wakeup = self.wakeup.borrow_mut().take();
        match wakeup {
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
        if !events.is_empty() && !self.call_on_exit(&events) {
            // The exits were disarmed by their reports: dropped here, their
            // waits would hang. The watcher keeps them and polls readable,
            // so they come again (next loop turn, or from the collector
            // thread).
            lock_watcher(&self.watcher).give_back(&mut events);
        }
        // Our shares of the descriptors go now: a handle closed during the
        // call closes its descriptor here.
        events.clear();
    }

    /// Calls the JavaScript callback with a batch. Returns whether the batch
    /// reached JavaScript (an exception thrown by the callback counts: it
    /// ran). Runs from a front-end callback, outside any JavaScript frame.
    fn call_on_exit(&self, events: &[Event]) -> bool {
        let js = self.js.borrow();
        let Some(callback) = js.as_ref() else {
            // Shut down: nobody is listening any more.
            return true;
        };
        let Some(scope) = HandleScope::open(&self.env) else {
            return false;
        };
        let Some(func) = callback.function.get(&scope) else {
            return false;
        };
        let Some(args) = self.batch_arguments(&scope, &callback.records, events) else {
            return false;
        };
        // The callback cannot reach `js` (it is borrowed until the call
        // returns), and nothing it can call shuts the poller down.
        callback.context.make_callback(&scope, func, &args) != CallOutcome::NotCalled
    }

    /// The callback's arguments for `events`: how many records there are,
    /// the `Float64Array` holding them, and the failures array (or
    /// `undefined` when nothing failed).
    fn batch_arguments<'scope>(
        &self,
        scope: &'scope HandleScope,
        shared_records: &Persistent,
        events: &[Event],
    ) -> Option<[Local<'scope>; 3]> {
        let count = u32::try_from(events.len()).ok()?;
        let mut out = self.records.try_borrow_mut().ok()?;
        out.resize(records_len(events.len()), 0.0);
        let env = scope.env();
        let mut failures: Option<Array> = None;
        let stride = EXIT_RECORD_LEN as usize;
        for (event, slot) in events.iter().zip(out.chunks_exact_mut(stride)) {
            let fd = event.pidfd.as_raw_fd();
            match &event.report {
                Report::Exited(info) => exit_record::write(slot, fd, ExitState::Exited, Some(info)),
                Report::Failed(err) => {
                    let list = match failures.as_mut() {
                        Some(list) => list,
                        None => failures.insert(env.create_array(0).ok()?),
                    };
                    let index = list.len() as usize;
                    list.insert(syscall_failure(&env, err).ok()?).ok()?;
                    exit_record::write_failure(slot, fd, index);
                }
            }
        }
        let records = scope.float64_array_in(shared_records, &out)?;
        let failures = match &failures {
            Some(list) => scope.adopt(list),
            None => scope.undefined()?,
        };
        Some([scope.uint32(count)?, records, failures])
    }
}

/// How many records the shared buffer holds: a full `epoll_wait` batch
/// (see `ExitWatcher::collect`). Only a failing `epoll_wait`, which reports
/// every watched process at once, can need more, and gets a buffer of its own.
const SHARED_BATCH: usize = 256;
