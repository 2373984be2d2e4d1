//! Failures handed to JavaScript as data. A failed system call becomes a
//! JavaScript `Error` carrying `errno` (positive), `syscall` and `pid`, and,
//! for an operation `lib/` tells apart, `operation` (an [`Operation`]) and
//! `since` (the first Linux release that has it); a failed Node-API call
//! carries `napiCall` and `napiStatus` instead.
//! `lib/errors.ts` (`fromNative`) turns both into what users see, with every
//! error code declared there, once; nothing here parses or builds messages
//! that TypeScript reads.

use napi::bindgen_prelude::*;

use crate::kinds::Operation;

/// `err` as the value to throw or report.
pub fn syscall_failure<'env>(env: &'env Env, err: &pidset::Error) -> Result<Object<'env>> {
    let operation = err.operation();
    failure(
        env,
        err,
        operation.map(Operation::from),
        operation.map(pidset::Operation::since),
    )
}

fn failure<'env>(
    env: &'env Env,
    err: &pidset::Error,
    operation: Option<Operation>,
    since: Option<&str>,
) -> Result<Object<'env>> {
    let mut obj = env.create_error(napi::Error::from_reason(err.to_string()))?;
    obj.set("errno", err.errno())?;
    obj.set("syscall", err.syscall())?;
    if let Some(pid) = err.pid() {
        obj.set("pid", pid)?;
    }
    if let Some(operation) = operation {
        obj.set("operation", operation)?;
    }
    if let Some(since) = since {
        obj.set("since", since)?;
    }
    Ok(obj)
}

/// `err` as an error that napi-rs throws: the failure object itself.
pub fn syscall_error(env: &Env, err: &pidset::Error) -> napi::Error {
    thrown(syscall_failure(env, err))
}

/// A failure object as what napi-rs throws (or the error of building it).
fn thrown(built: Result<Object<'_>>) -> napi::Error {
    match built {
        Ok(obj) => napi::Error::from(obj.to_unknown()),
        Err(napi_err) => napi_err,
    }
}

/// A use of a handle after `close()`: EBADF, as the kernel would say.
pub fn closed_error(env: &Env, syscall: &'static str, pid: i32) -> napi::Error {
    syscall_error(env, &pidset::Error::new(libc::EBADF, syscall, Some(pid)))
}

/// A libuv call that failed with `status` (a negative errno on Unix), as
/// the [`Operation::LibuvLoop`] it was part of.
pub fn uv_error(env: &Env, call: &'static str, status: i32) -> napi::Error {
    let err = pidset::Error::new(-status, call, None);
    thrown(failure(env, &err, Some(Operation::LibuvLoop), None))
}

/// A Node-API call that failed (which it should not): its name and status.
pub fn napi_call_error(env: &Env, call: &'static str, status: i32) -> napi::Error {
    let build = || -> Result<Object<'_>> {
        let mut obj = env.create_error(napi::Error::from_reason(format!("{call} failed")))?;
        obj.set("napiCall", call)?;
        obj.set("napiStatus", status)?;
        Ok(obj)
    };
    thrown(build())
}
