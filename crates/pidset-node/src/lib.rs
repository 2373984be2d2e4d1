//! The Node.js binding of the `pidset` crate: it translates the core's types
//! to JavaScript and plugs its epoll instance into Node's own event loop.
//! The public API (validation, promises, timeouts, AbortSignal, PidSet) is
//! shaped in TypeScript over this in `index.ts` and `lib/`.
#![deny(clippy::all)]
#![deny(unsafe_op_in_unsafe_fn)]

mod error;
mod exit_info;
mod native_pidfd;
mod poller;
mod uv;

pub use exit_info::{NativeExitInfo, NativeResourceUsage};
pub use native_pidfd::NativePidFd;
pub use poller::Poller;
