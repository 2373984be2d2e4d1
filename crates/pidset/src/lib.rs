//! Race-free process handles for Linux.
//!
//! A [`PidFd`] is a file descriptor that refers to one process for as long as
//! it is open: signals sent through it can never reach a process that later
//! reuses the same PID, and it becomes readable when the process exits, so
//! exits can be waited for with `poll`/`epoll` instead of polling
//! `kill(pid, 0)`. An [`ExitWatcher`] watches many of them through one epoll
//! instance and reports each exit once; [`Epoll`] is the bare readiness set
//! beneath it.
//!
//! Nothing here reaps a process it did not start: exit statuses are read
//! with `WNOWAIT`, so a child that some other code spawned (Node's
//! `child_process`, say) is still there for its owner to wait on. Children
//! started with [`spawn`] are this library's own, reaped by
//! [`OwnedChild::reap`]: no other handle can reap.
#![cfg(target_os = "linux")]
#![deny(unsafe_op_in_unsafe_fn)]

mod adopt;
mod cgroup;
mod cgroup_guard;
mod epoll;
mod error;
mod exit_collector;
mod exit_info;
mod exit_watcher;
#[cfg(feature = "fault-injection")]
pub mod fault;
mod foreign;
mod identity;
mod inherited_rss;
mod kernel;
mod operation;
mod orphans;
mod owned_child;
mod pidfd;
mod proc_tree;
mod process_info;
mod reap_grace;
mod spawn;
mod support;
mod sys;
mod tree;

pub use cgroup::Cgroup;
pub use epoll::{Epoll, Interest};
pub use error::{Error, Result};
pub use exit_collector::{lock_watcher, ExitCollector, SharedWatcher};
pub use exit_info::{ExitInfo, ExitStatus, ResourceUsage};
pub use exit_watcher::{Event, ExitWatcher, Report};
pub use foreign::Namespace;
pub use kernel::{kernel_support, KernelSupport};
pub use operation::Operation;
pub use owned_child::OwnedChild;
pub use pidfd::{PidFd, SignalScope, REAP_GRACE};
pub use process_info::ProcessInfo;
pub use spawn::{spawn, Child, SpawnOptions, Stdio};
pub use tree::{descendants, kill_tree, KilledTree};
