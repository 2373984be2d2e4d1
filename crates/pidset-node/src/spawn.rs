//! `spawnChild`: pidset's own children, translated from what
//! `lib/spawn-options.ts` validated into `pidset::spawn`.

use std::os::fd::IntoRawFd;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pidset::{SpawnOptions, Stdio};

use crate::cgroup::NativeCgroup;
use crate::error::syscall_error;
use crate::kinds::StdioKind;
use crate::native_child::NativeChild;

/// What to start, validated by `lib/spawn-options.ts`.
#[napi(object, object_to_js = false)]
pub struct SpawnRequest {
    /// The program, a path or a name looked up in `PATH`.
    pub file: String,
    /// Its arguments after argv[0].
    pub args: Vec<String>,
    /// argv[0], when not `file`.
    pub argv0: Option<String>,
    /// The whole environment, as name and value pairs.
    pub env: Vec<EnvVar>,
    /// The working directory, when not this process's.
    pub cwd: Option<String>,
    /// stdin, stdout, stderr: each a [`StdioKind`] or a descriptor of this
    /// process's to give the child.
    pub stdio: Vec<Either<StdioKind, i32>>,
    /// Whether the child leads a new session.
    pub detached: bool,
    /// The user to run as.
    pub uid: Option<u32>,
    /// The group to run as.
    pub gid: Option<u32>,
    /// Whether the child is SIGKILLed when the thread that spawned it ends.
    pub kill_on_parent_exit: bool,
}

/// One environment variable of a [`SpawnRequest`].
#[napi(object, object_to_js = false)]
pub struct EnvVar {
    /// Its name (no `=`, no NUL: checked by `lib/spawn-options.ts`).
    pub name: String,
    /// Its value.
    pub value: String,
}

/// Starts a child (in `cgroup`, when given); writes the parent's ends of
/// its piped streams (or -1) into `streams` (3 slots), which the caller
/// then owns, and returns the child's handle. Throws a failure with
/// `syscall` 'spawn' (or the call that failed before it) if it could not
/// be started.
#[napi]
pub fn spawn_child(
    env: Env,
    request: SpawnRequest,
    mut streams: Int32ArraySlice,
    cgroup: Option<&NativeCgroup>,
) -> Result<NativeChild> {
    // SAFETY: JavaScript is not running while this function does, and
    // lib/subprocess.ts passes a fresh Int32Array of its own.
    let streams = unsafe { streams.as_mut() };
    if streams.len() < 3 || request.stdio.len() != 3 {
        return Err(napi::Error::new(
            Status::InvalidArg,
            "three stdio slots are needed",
        ));
    }
    let mut options = SpawnOptions::new(request.file);
    options.args = request.args.into_iter().map(Into::into).collect();
    options.argv0 = request.argv0.map(Into::into);
    options.env = Some(
        request
            .env
            .into_iter()
            .map(|var| (var.name.into(), var.value.into()))
            .collect(),
    );
    options.cwd = request.cwd.map(Into::into);
    for (slot, entry) in options.stdio.iter_mut().zip(request.stdio) {
        *slot = match entry {
            Either::A(kind) => kind.into(),
            Either::B(fd) => Stdio::Fd(fd),
        };
    }
    options.new_session = request.detached;
    options.uid = request.uid;
    options.gid = request.gid;
    options.kill_on_parent_exit = request.kill_on_parent_exit;
    options.cgroup = cgroup.map(NativeCgroup::core);
    let child = pidset::spawn(&options).map_err(|e| syscall_error(&env, &e))?;
    for (slot, end) in streams
        .iter_mut()
        .zip([child.stdin, child.stdout, child.stderr])
    {
        *slot = end.map_or(-1, IntoRawFd::into_raw_fd);
    }
    Ok(NativeChild::new(child.pidfd))
}
