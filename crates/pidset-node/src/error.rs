//! Errors thrown to JavaScript. System-call failures use one internal
//! contract with `lib/errors.ts` (`fromNative`): `code` is [`SYSCALL_ERROR`]
//! and the message is `"<syscall> <errno>"`. The TypeScript side turns that
//! into a Node-style `SystemError` named with Node's own errno tables, so the
//! names and messages match Node's exactly and live in one place.

/// The `code` of every error thrown for a failed system call.
pub const SYSCALL_ERROR: &str = "PIDSET_SYSCALL";

/// What binding methods return: errors carry a string `code`.
pub type Result<T> = napi::Result<T, String>;

/// A failed system call, in the form `lib/errors.ts` expects.
pub fn syscall_error(err: pidset::Error) -> napi::Error<String> {
    napi::Error::new(
        SYSCALL_ERROR.to_owned(),
        format!("{} {}", err.syscall(), err.errno()),
    )
}

/// A use of a handle after `close()`: EBADF, as the kernel would say.
pub fn closed_error(syscall: &'static str, pid: i32) -> napi::Error<String> {
    syscall_error(pidset::Error::new(libc::EBADF, syscall, Some(pid)))
}

/// A failure of Node-API itself (it should not happen); the status names it.
pub fn napi_error(err: napi::Error) -> napi::Error<String> {
    napi::Error::new(err.status.as_ref().to_owned(), err.reason.clone())
}
