//! The thread that collects exits where no event loop can.

mod common;

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{collecting, pid_of, sh};
use pidset::{lock_watcher, Event, ExitCollector, ExitStatus, ExitWatcher, PidFd, Report};

const PATIENCE: Duration = Duration::from_secs(30);

fn status(event: &Event) -> Option<ExitStatus> {
    match &event.report {
        Report::Exited(info) => info.status,
        other => panic!("expected an exit, got {other:?}"),
    }
}

#[test]
fn hands_on_each_exit_once_as_it_happens() {
    let (watcher, rx, collector) = collecting();
    let mut children: Vec<_> = (0..3)
        .map(|i| sh(&format!("read line; exit {i}")))
        .collect();
    let pidfds: Vec<_> = children
        .iter()
        .map(|c| Arc::new(PidFd::open(pid_of(c)).expect("open")))
        .collect();
    for pidfd in &pidfds {
        lock_watcher(&watcher).watch(pidfd).expect("watch");
    }
    // One at a time: each batch is exactly the one that exited.
    for (i, child) in children.iter_mut().enumerate() {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"go\n")
            .expect("write");
        let batch = rx.recv_timeout(PATIENCE).expect("a batch");
        assert_eq!(batch.len(), 1);
        assert!(Arc::ptr_eq(&batch[0].pidfd, &pidfds[i]));
        assert_eq!(status(&batch[0]), Some(ExitStatus::Exited(i as i32)));
    }
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "each exit once"
    );
    assert!(lock_watcher(&watcher).is_empty());
    collector.stop();
}

#[test]
fn reports_given_back_are_handed_on_again() {
    let (watcher, rx, collector) = collecting();
    let mut child = sh("exit 9");
    let pidfd = Arc::new(PidFd::open(pid_of(&child)).expect("open"));
    lock_watcher(&watcher).watch(&pidfd).expect("watch");
    let mut batch = rx.recv_timeout(PATIENCE).expect("a batch");
    // Its delivery failed: given back, it comes again.
    lock_watcher(&watcher).give_back(&mut batch);
    let again = rx.recv_timeout(PATIENCE).expect("again");
    assert!(Arc::ptr_eq(&again[0].pidfd, &pidfd));
    assert_eq!(status(&again[0]), Some(ExitStatus::Exited(9)));
    collector.stop();
    child.wait().expect("reap");
}

#[test]
fn stop_ends_the_thread_while_it_waits_and_nothing_is_called_after() {
    let watcher = Arc::new(Mutex::new(ExitWatcher::new().expect("watcher")));
    let (tx, rx) = mpsc::channel::<Vec<Event>>();
    let collector =
        ExitCollector::start(watcher, move |batch| tx.send(batch).is_ok()).expect("start");
    collector.stop();
    // The closure, and its sender, went with the thread.
    assert!(matches!(
        rx.recv_timeout(PATIENCE),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn a_receiver_that_is_gone_ends_the_thread() {
    let watcher = Arc::new(Mutex::new(ExitWatcher::new().expect("watcher")));
    let (gone_tx, gone_rx) = mpsc::channel::<()>();
    let collector = ExitCollector::start(Arc::clone(&watcher), move |_| {
        let _held_until_the_thread_ends = &gone_tx;
        false
    })
    .expect("start");
    let mut child = sh("exit 0");
    let pidfd = Arc::new(PidFd::open(pid_of(&child)).expect("open"));
    lock_watcher(&watcher).watch(&pidfd).expect("watch");
    assert_eq!(
        gone_rx.recv_timeout(PATIENCE),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
    drop(collector);
    child.wait().expect("reap");
}
