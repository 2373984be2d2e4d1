//! The Node.js binding of the `pidset` crate: it translates the core's types
//! to JavaScript and plugs its exit watcher into Node's own event loop.
//! The public API (validation, promises, timeouts, AbortSignal, PidSet) is
//! shaped in TypeScript over this in `index.ts` and `lib/`.
#![deny(clippy::all)]
#![deny(unsafe_op_in_unsafe_fn)]

mod cgroup;
mod error;
mod exit_record;
mod kernel_support;
mod kinds;
mod napi_fault;
mod native_child;
mod native_pidfd;
mod node_api;
mod poller;
mod process_info;
mod spawn;
mod thread_wakeup;
mod tree;
mod uv;

pub use cgroup::NativeCgroup;
pub use exit_record::{ExitState, EXIT_RECORD_LEN};
pub use kernel_support::{probe_kernel_support, KernelSupport};
pub use kinds::{NamespaceKind, Operation, SignalScope, StdioKind};
pub use native_child::NativeChild;
pub use native_pidfd::NativePidFd;
pub use poller::Poller;
pub use process_info::ProcessInfo;
pub use spawn::{spawn_child, SpawnRequest};

/// Test-only: makes the next `times` calls of `syscall` fail with `errno`
/// (`times` 0 removes the fault). Exists only in builds with the
/// `fault-injection` feature, never in release builds.
#[cfg(feature = "fault-injection")]
#[napi_derive::napi]
pub fn inject_fault(syscall: String, errno: i32, times: u32) {
    pidset::fault::inject(&syscall, errno, times);
}
