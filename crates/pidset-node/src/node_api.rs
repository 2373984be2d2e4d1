//! The raw Node-API calls that napi-rs has no safe form for and the poller
//! needs, each behind a safe type: references kept from call to call, an
//! async context with `napi_make_callback`, handle scopes opened outside
//! any call, reusable `Float64Array`s and environment cleanup hooks.
//!
//! Every type here holds its environment as a raw pointer, so none is
//! `Send` or `Sync`: they stay on the environment's own thread, the only
//! one Node-API may be called from. As in napi-rs, an `Env` or a value
//! that napi-rs hands out is trusted to be live for as long as it is
//! held; a value made here (a [`Local`]) cannot outlive the
//! [`HandleScope`] it was made in.

use std::ffi::c_void;
use std::marker::PhantomData;
use std::ptr;

use napi::{sys, Env, JsValue};

use crate::napi_fault::injected_napi_fault;

/// A Node-API call that failed: its name and status.
pub type NapiFailure = (&'static str, sys::napi_status);

fn check(call: &'static str, status: sys::napi_status) -> Result<(), NapiFailure> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err((call, status))
    }
}

/// A strong reference to a JavaScript value, kept from call to call: the
/// value cannot be collected while it exists. Deleted when dropped, unless
/// [`abandon`](Self::abandon)ed.
pub struct Persistent {
    env: sys::napi_env,
    raw: sys::napi_ref,
}

impl Persistent {
    /// References `value`.
    pub fn new<'env, V: JsValue<'env>>(value: &V) -> Result<Self, NapiFailure> {
        let value = value.value();
        // SAFETY: a live value of a live env (napi-rs's contract for `V`).
        unsafe { Self::of_raw(value.env, value.value) }
    }

    /// # Safety
    /// `value` must be a live value of `env`, on the env's thread.
    unsafe fn of_raw(env: sys::napi_env, value: sys::napi_value) -> Result<Self, NapiFailure> {
        let mut raw = ptr::null_mut();
        // SAFETY: per the contract; a valid out-pointer.
        let status = unsafe { sys::napi_create_reference(env, value, 1, &mut raw) };
        check("napi_create_reference", status)?;
        Ok(Self { env, raw })
    }

    /// The referenced value, made a local of `scope`.
    pub fn get<'scope>(&self, scope: &'scope HandleScope) -> Option<Local<'scope>> {
        let mut value = ptr::null_mut();
        // SAFETY: a live reference (deleted only by drop) of the scope's env.
        let status = unsafe { sys::napi_get_reference_value(scope.env, self.raw, &mut value) };
        scope.local(status, value)
    }

    /// Forgets the reference without deleting it: for an environment being
    /// torn down, which frees its references itself (and where deleting
    /// one can abort: Deno's teardown has no handle scope).
    pub fn abandon(self) {
        std::mem::forget(self);
    }
}

impl Drop for Persistent {
    fn drop(&mut self) {
        // SAFETY: a live reference, deleted once, on the env's thread.
        unsafe { sys::napi_delete_reference(self.env, self.raw) };
    }
}

/// An async context (`napi_async_init`) in which callbacks are made, so
/// that async_hooks and AsyncLocalStorage see them as coming from a
/// resource of their own. Destroyed when dropped, unless abandoned.
pub struct AsyncResource {
    env: sys::napi_env,
    raw: sys::napi_async_context,
}

/// How a [`AsyncResource::make_callback`] went.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The function ran and returned.
    Returned,
    /// The function ran and threw; the exception was reported as uncaught,
    /// as one thrown from an event handler is.
    Threw,
    /// The function could not be called.
    NotCalled,
}

impl AsyncResource {
    /// A new async context named `pidset`.
    pub fn new(env: &Env) -> Result<Self, NapiFailure> {
        let env = env.raw();
        let mut resource = ptr::null_mut();
        let mut name = ptr::null_mut();
        let mut raw = ptr::null_mut();
        // SAFETY: plain calls on a live env with valid out-pointers; the
        // values made live in the current call's scope.
        unsafe {
            check(
                "napi_create_object",
                sys::napi_create_object(env, &mut resource),
            )?;
            let status = sys::napi_create_string_utf8(env, c"pidset".as_ptr(), 6, &mut name);
            check("napi_create_string_utf8", status)?;
            let status = sys::napi_async_init(env, resource, name, &mut raw);
            check("napi_async_init", status)?;
        }
        Ok(Self { env, raw })
    }

    /// Calls `func` with `args` in this context through
    /// `napi_make_callback`, which, unlike a plain call, runs the microtask
    /// and nextTick queues afterwards: without it, promises settled by the
    /// call would wait for some unrelated callback to drain them. Must not
    /// be called from inside JavaScript (only from a loop or threadsafe
    /// function callback), which the [`HandleScope`] argument vouches for.
    pub fn make_callback(
        &self,
        scope: &HandleScope,
        func: Local<'_>,
        args: &[Local<'_>],
    ) -> CallOutcome {
        let Some(recv) = scope.global() else {
            return CallOutcome::NotCalled;
        };
        let mut result = ptr::null_mut();
        let status = match injected_napi_fault("napi_make_callback") {
            Some(status) => status,
            // SAFETY: a live context of the scope's env, and locals of an
            // open scope; `Local` is a transparent `napi_value`, so the
            // slice is the array of values Node-API expects.
            None => unsafe {
                sys::napi_make_callback(
                    scope.env,
                    self.raw,
                    recv.raw,
                    func.raw,
                    args.len(),
                    args.as_ptr().cast::<sys::napi_value>(),
                    &mut result,
                )
            },
        };
        if status == sys::Status::napi_ok {
            return CallOutcome::Returned;
        }
        if status != sys::Status::napi_pending_exception {
            return CallOutcome::NotCalled;
        }
        let mut error = ptr::null_mut();
        // SAFETY: an exception is pending on the scope's env; reporting it
        // as fatal (uncaught) is what an event handler's throw does.
        unsafe {
            if sys::napi_get_and_clear_last_exception(scope.env, &mut error) == sys::Status::napi_ok
            {
                sys::napi_fatal_exception(scope.env, error);
            }
        }
        CallOutcome::Threw
    }

    /// Forgets the context without destroying it (see
    /// [`Persistent::abandon`]).
    pub fn abandon(self) {
        std::mem::forget(self);
    }
}

impl Drop for AsyncResource {
    fn drop(&mut self) {
        // SAFETY: a live context, destroyed once, on the env's thread.
        unsafe { sys::napi_async_destroy(self.env, self.raw) };
    }
}

/// A handle scope opened outside any JavaScript call (from a loop or
/// threadsafe function callback), closed when dropped: the values made in
/// it are freed then.
pub struct HandleScope {
    env: sys::napi_env,
    raw: sys::napi_handle_scope,
}

/// A JavaScript value made in a [`HandleScope`], valid while it is open.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct Local<'scope> {
    raw: sys::napi_value,
    scope: PhantomData<&'scope HandleScope>,
}

impl HandleScope {
    /// Opens a scope on `env`, which must be the current thread's and not
    /// inside a JavaScript call (napi-rs's contract for `Env`).
    pub fn open(env: &Env) -> Option<Self> {
        let env = env.raw();
        let mut raw = ptr::null_mut();
        // SAFETY: a live env on its own thread; a valid out-pointer.
        let status = unsafe { sys::napi_open_handle_scope(env, &mut raw) };
        (status == sys::Status::napi_ok).then_some(Self { env, raw })
    }

    /// The environment, for napi-rs's own value makers.
    pub fn env(&self) -> Env {
        Env::from_raw(self.env)
    }

    fn local(&self, status: sys::napi_status, raw: sys::napi_value) -> Option<Local<'_>> {
        (status == sys::Status::napi_ok && !raw.is_null()).then_some(Local {
            raw,
            scope: PhantomData,
        })
    }

    /// A value napi-rs made on this scope's env, as a local of the scope.
    pub fn adopt<'env, V: JsValue<'env>>(&self, value: &V) -> Local<'_> {
        Local {
            raw: value.raw(),
            scope: PhantomData,
        }
    }

    /// The global object.
    pub fn global(&self) -> Option<Local<'_>> {
        let mut raw = ptr::null_mut();
        // SAFETY: an open scope's live env; a valid out-pointer.
        let status = unsafe { sys::napi_get_global(self.env, &mut raw) };
        self.local(status, raw)
    }

    /// `undefined`.
    pub fn undefined(&self) -> Option<Local<'_>> {
        let mut raw = ptr::null_mut();
        // SAFETY: as in `global`.
        let status = unsafe { sys::napi_get_undefined(self.env, &mut raw) };
        self.local(status, raw)
    }

    /// The number `value`.
    pub fn uint32(&self, value: u32) -> Option<Local<'_>> {
        let mut raw = ptr::null_mut();
        // SAFETY: as in `global`.
        let status = unsafe { sys::napi_create_uint32(self.env, value, &mut raw) };
        self.local(status, raw)
    }

    /// A new `Float64Array` holding a copy of `values`.
    pub fn float64_array(&self, values: &[f64]) -> Option<Local<'_>> {
        let mut data = ptr::null_mut();
        let mut buffer = ptr::null_mut();
        let mut array = ptr::null_mut();
        // SAFETY: an open scope's live env; valid out-pointers.
        let ok = unsafe {
            sys::napi_create_arraybuffer(
                self.env,
                std::mem::size_of_val(values),
                &mut data,
                &mut buffer,
            ) == sys::Status::napi_ok
                && sys::napi_create_typedarray(
                    self.env,
                    sys::TypedarrayType::float64_array,
                    values.len(),
                    buffer,
                    0,
                    &mut array,
                ) == sys::Status::napi_ok
        };
        if !ok || (data.is_null() && !values.is_empty()) {
            return None;
        }
        // SAFETY: the buffer just made holds `values.len()` doubles and
        // nothing else can reach it yet.
        unsafe { copy_into(data, values) };
        self.local(sys::Status::napi_ok, array)
    }

    /// The `Float64Array` that `reused` references, with `values` copied to
    /// its start, when it is long enough; else a new array holding them.
    /// Reusing one array from call to call allocates nothing.
    pub fn float64_array_in(&self, reused: &Persistent, values: &[f64]) -> Option<Local<'_>> {
        if let Some(array) = reused.get(self) {
            let mut kind = sys::TypedarrayType::int8_array;
            let mut length = 0;
            let mut data = ptr::null_mut();
            let mut buffer = ptr::null_mut();
            let mut offset = 0;
            // SAFETY: a live value of an open scope; valid out-pointers.
            let status = unsafe {
                sys::napi_get_typedarray_info(
                    self.env,
                    array.raw,
                    &mut kind,
                    &mut length,
                    &mut data,
                    &mut buffer,
                    &mut offset,
                )
            };
            if status == sys::Status::napi_ok
                && kind == sys::TypedarrayType::float64_array
                && length >= values.len()
                && !data.is_null()
            {
                // SAFETY: the array's data holds `length` >= `values.len()`
                // doubles, and no JavaScript runs during the copy. Were
                // JavaScript to detach the array, its length would read 0
                // and a new array would be made instead.
                unsafe { copy_into(data, values) };
                return Some(array);
            }
        }
        self.float64_array(values)
    }
}

/// Copies `values` to `data`, which need not be aligned.
///
/// # Safety
/// `data` must be valid for writes of `values.len()` doubles and not
/// overlap `values`.
unsafe fn copy_into(data: *mut c_void, values: &[f64]) {
    // SAFETY: per the contract; copied as bytes, so alignment is moot.
    unsafe {
        ptr::copy_nonoverlapping(
            values.as_ptr().cast::<u8>(),
            data.cast::<u8>(),
            std::mem::size_of_val(values),
        )
    };
}

impl Drop for HandleScope {
    fn drop(&mut self) {
        // SAFETY: opened by `open`, closed once, on the same thread; the
        // locals made in it cannot outlive it (they borrow it).
        unsafe { sys::napi_close_handle_scope(self.env, self.raw) };
    }
}

/// A reference to a new zeroed `Float64Array` of `len` doubles.
pub fn persistent_float64_array(env: &Env, len: usize) -> Result<Persistent, NapiFailure> {
    let failed = ("napi_create_typedarray", sys::Status::napi_generic_failure);
    let scope = HandleScope::open(env).ok_or(failed)?;
    let array = scope.float64_array(&vec![0.0; len]).ok_or(failed)?;
    // SAFETY: a live local of the open scope, on its env.
    unsafe { Persistent::of_raw(scope.env, array.raw) }
}

/// Runs `on_exit(value)` once, when the environment is torn down
/// (`napi_add_env_cleanup_hook`, never removed).
pub fn on_env_exit<T: 'static>(env: &Env, value: T, on_exit: fn(T)) -> Result<(), NapiFailure> {
    let data = Box::into_raw(Box::new((value, on_exit))).cast::<c_void>();
    // SAFETY: a live env; `data` is reclaimed by the hook, which runs once.
    let status =
        unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(run_env_exit::<T>), data) };
    if status != sys::Status::napi_ok {
        // SAFETY: the hook was not added, so nothing else holds `data`.
        drop(unsafe { Box::from_raw(data.cast::<(T, fn(T))>()) });
    }
    check("napi_add_env_cleanup_hook", status)
}

unsafe extern "C" fn run_env_exit<T>(data: *mut c_void) {
    // SAFETY: the box made by `on_env_exit` for this `T`, reclaimed once.
    let (value, on_exit) = *unsafe { Box::from_raw(data.cast::<(T, fn(T))>()) };
    // Unwinding into the runtime would be undefined behaviour.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_exit(value)));
}

/// An asynchronous environment cleanup hook (`napi_add_async_cleanup_hook`):
/// teardown waits after running it until it is [`done`](Self::done). The
/// value owns the hook: done consumes it.
pub struct AsyncCleanupHook<T: 'static> {
    raw: sys::napi_async_cleanup_hook_handle,
    data: *mut (T, fn(&T)),
}

impl<T: 'static> AsyncCleanupHook<T> {
    /// Runs `on_teardown(&value)` when the environment is torn down; the
    /// teardown then waits for [`done`](Self::done).
    pub fn add(env: &Env, value: T, on_teardown: fn(&T)) -> Result<Self, NapiFailure> {
        let data = Box::into_raw(Box::new((value, on_teardown)));
        let mut raw = ptr::null_mut();
        // SAFETY: a live env; `data` is freed by `done`, after which the
        // hook cannot run.
        let status = unsafe {
            sys::napi_add_async_cleanup_hook(
                env.raw(),
                Some(run_async_cleanup::<T>),
                data.cast::<c_void>(),
                &mut raw,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: the hook was not added, so nothing else holds `data`.
            drop(unsafe { Box::from_raw(data) });
        }
        check("napi_add_async_cleanup_hook", status)?;
        Ok(Self { raw, data })
    }

    /// Removes the hook: if it ran, this tells the teardown that cleanup is
    /// done; if it did not, it never will.
    pub fn done(self) {
        // SAFETY: added by `add`, removed once (this consumes `self`); the
        // hook cannot run afterwards, so its data is ours to free.
        unsafe {
            sys::napi_remove_async_cleanup_hook(self.raw);
            drop(Box::from_raw(self.data));
        }
    }
}

unsafe extern "C" fn run_async_cleanup<T>(
    _hook: sys::napi_async_cleanup_hook_handle,
    data: *mut c_void,
) {
    // SAFETY: the box made by `AsyncCleanupHook::add` for this `T`, freed
    // only by `done`, which removes the hook first.
    let (value, on_teardown) = unsafe { &*data.cast::<(T, fn(&T))>() };
    // Unwinding into the runtime would be undefined behaviour.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_teardown(value)));
}
