// Helpers shared by the integration tests (included with `mod common`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

/// Starts `sh -c script` as our child.
pub fn sh(script: &str) -> Child {
    Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh")
}

/// Reads one line the child wrote, without the newline.
pub fn read_line(out: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    out.read_line(&mut line).expect("read child output");
    line.trim_end().to_owned()
}

/// The child's pid as the i32 the API takes.
pub fn pid_of(child: &Child) -> i32 {
    i32::try_from(child.id()).expect("pid fits i32")
}

/// Whether the kernel keeps a reaped process's status (PIDFD_INFO_EXIT,
/// Linux 6.15), as probed: the version string says nothing of backports.
pub fn has_exit_info() -> bool {
    pidset::kernel_support().is_ok_and(|k| k.exit_info)
}

/// A PID that no process can have: above the kernel's pid_max limit (2^22).
pub const NO_SUCH_PID: i32 = 1 << 30;

/// SIGKILLs every process it holds a handle to when dropped, so that a
/// failed assertion cannot leave them running (they hold the test's output
/// pipe, and `cargo test` would wait for them). Through the handles: never
/// a PID that was reused after the test ended.
pub struct KillOnDrop<'a>(pub Vec<&'a pidset::PidFd>);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        for pidfd in &self.0 {
            let _ = pidfd.send_signal(libc::SIGKILL);
        }
    }
}

/// A watcher and a collector started on it, whose batches come out of the
/// receiver.
pub fn collecting() -> (
    pidset::SharedWatcher,
    std::sync::mpsc::Receiver<Vec<pidset::Event>>,
    pidset::ExitCollector,
) {
    let watcher = std::sync::Arc::new(std::sync::Mutex::new(
        pidset::ExitWatcher::new().expect("watcher"),
    ));
    let (tx, rx) = std::sync::mpsc::channel();
    let collector = pidset::ExitCollector::start(std::sync::Arc::clone(&watcher), move |batch| {
        tx.send(batch).is_ok()
    })
    .expect("start");
    (watcher, rx, collector)
}
