//! What happens when a system call fails in the middle of reporting exits,
//! through the test-only fault switch (`--features fault-injection`).
#![cfg(feature = "fault-injection")]

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use common::{collecting, pid_of, sh};
use pidset::{fault, lock_watcher, Event, ExitCollector, ExitStatus, ExitWatcher, PidFd, Report};

/// Faults are process-wide; the tests of this file take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn collect(watcher: &mut ExitWatcher, count: usize) -> Vec<Event> {
    let mut events = Vec::new();
    while events.len() < count {
        watcher.collect(Some(Duration::from_secs(30)), &mut events);
    }
    events
}

/// Two children that have both exited (zombies), watched.
fn two_exited() -> (
    ExitWatcher,
    Arc<PidFd>,
    Arc<PidFd>,
    Vec<std::process::Child>,
) {
    let a = sh("exit 4");
    let b = sh("exit 5");
    let pa = Arc::new(PidFd::open(pid_of(&a)).expect("open"));
    let pb = Arc::new(PidFd::open(pid_of(&b)).expect("open"));
    for p in [&pa, &pb] {
        while !p.has_exited().expect("poll") {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let mut watcher = ExitWatcher::new().expect("watcher");
    watcher.watch(&pa).expect("watch");
    watcher.watch(&pb).expect("watch");
    (watcher, pa, pb, vec![a, b])
}

#[test]
fn a_failing_waitid_is_reported_for_its_process_and_costs_the_others_nothing() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (mut watcher, _pa, _pb, mut children) = two_exited();
    // The first exit read in the batch fails; the second must still come.
    fault::inject("waitid", libc::EIO, 1);
    let events = collect(&mut watcher, 2);
    fault::inject("waitid", 0, 0);
    let failed: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.report, Report::Failed(_)))
        .collect();
    let exited: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.report, Report::Exited(_)))
        .collect();
    assert_eq!((failed.len(), exited.len()), (1, 1), "{events:?}");
    let Report::Failed(err) = &failed[0].report else {
        unreachable!()
    };
    assert_eq!(err.errno(), libc::EIO);
    assert_eq!(err.syscall(), "waitid");
    assert_eq!(err.pid(), Some(failed[0].pidfd.pid()));
    assert!(watcher.is_empty(), "a failed process is no longer watched");

    // Watching it again retries, and now it is reported.
    watcher.watch(&failed[0].pidfd).expect("watch again");
    let retried = collect(&mut watcher, 1);
    let Report::Exited(info) = retried[0].report else {
        panic!("{retried:?}")
    };
    assert!(matches!(info.status, Some(ExitStatus::Exited(4 | 5))));
    for c in &mut children {
        c.wait().expect("reap");
    }
}

#[test]
fn a_failing_epoll_wait_is_reported_to_every_watched_process() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut running = sh("exec sleep 30");
    let pr = Arc::new(PidFd::open(pid_of(&running)).expect("open"));
    let (mut watcher, _pa, _pb, mut children) = two_exited();
    watcher.watch(&pr).expect("watch");
    fault::inject("epoll_wait", libc::EBADF, 1);
    let mut events = Vec::new();
    assert_eq!(watcher.collect(Some(Duration::ZERO), &mut events), 3);
    for event in &events {
        let Report::Failed(err) = &event.report else {
            panic!("{events:?}")
        };
        assert_eq!((err.errno(), err.syscall()), (libc::EBADF, "epoll_wait"));
        assert_eq!(err.pid(), Some(event.pidfd.pid()));
    }
    assert!(watcher.is_empty());
    // The watcher itself still works.
    watcher.watch(&pr).expect("watch again");
    running.kill().expect("kill");
    let after = collect(&mut watcher, 1);
    assert!(matches!(after[0].report, Report::Exited(_)));
    running.wait().expect("reap");
    for c in &mut children {
        c.wait().expect("reap");
    }
}

#[test]
fn a_watch_that_fails_leaves_nothing_watched_and_names_the_process() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut child = sh("exec sleep 30");
    let pidfd = Arc::new(PidFd::open(pid_of(&child)).expect("open"));
    let mut watcher = ExitWatcher::new().expect("watcher");
    fault::inject("epoll_ctl", libc::ENOSPC, 1);
    let err = watcher.watch(&pidfd).expect_err("ENOSPC");
    assert_eq!(
        (err.errno(), err.syscall(), err.pid()),
        (libc::ENOSPC, "epoll_ctl", Some(pidfd.pid()))
    );
    assert!(!watcher.is_watched(&pidfd));
    assert_eq!(Arc::strong_count(&pidfd), 1, "the watcher kept no share");
    child.kill().expect("kill");
    child.wait().expect("reap");
}

/// How many descriptors this process has open.
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

#[test]
fn a_watcher_that_cannot_get_its_descriptors_fails_with_the_call_and_keeps_none() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = open_descriptors();
    for (call, errno) in [
        ("epoll_create1", libc::EMFILE),
        ("eventfd", libc::EMFILE),
        ("timerfd_create", libc::ENOMEM),
    ] {
        fault::inject(call, errno, 1);
        let err = ExitWatcher::new().expect_err(call);
        fault::inject(call, 0, 0);
        assert_eq!((err.errno(), err.syscall(), err.pid()), (errno, call, None));
        assert_eq!(open_descriptors(), before, "{call}: nothing left open");
    }
    assert!(
        ExitWatcher::new().is_ok(),
        "works again once the fault is gone"
    );
}

#[test]
fn a_collector_whose_thread_cannot_start_fails_and_leaves_the_watcher_usable() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let watcher = Arc::new(Mutex::new(ExitWatcher::new().expect("watcher")));
    let before = open_descriptors();
    for (call, errno) in [("pthread_create", libc::EAGAIN), ("eventfd", libc::EMFILE)] {
        fault::inject(call, errno, 1);
        let err = ExitCollector::start(Arc::clone(&watcher), |_| true).expect_err(call);
        fault::inject(call, 0, 0);
        assert_eq!((err.errno(), err.syscall()), (errno, call));
        assert_eq!(open_descriptors(), before, "{call}: nothing left open");
    }
    // Nothing of the failed starts remains: a new collector reports as any.
    let (tx, rx) = std::sync::mpsc::channel();
    let collector = ExitCollector::start(Arc::clone(&watcher), move |batch| tx.send(batch).is_ok())
        .expect("start");
    let mut child = sh("exit 6");
    let pidfd = Arc::new(PidFd::open(pid_of(&child)).expect("open"));
    lock_watcher(&watcher).watch(&pidfd).expect("watch");
    let batch = rx.recv_timeout(Duration::from_secs(30)).expect("a batch");
    assert!(matches!(
        &batch[0].report,
        Report::Exited(info) if info.status == Some(ExitStatus::Exited(6))
    ));
    collector.stop();
    child.wait().expect("reap");
}

#[test]
fn a_collector_whose_poll_fails_backs_off_and_loses_no_exit() {
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut child = sh("read line; exit 7");
    let pidfd = Arc::new(PidFd::open(pid_of(&child)).expect("open"));
    // Its first polls fail (ENOMEM, the one failure poll has on two
    // descriptors): the thread backs off and polls again.
    fault::inject("poll", libc::ENOMEM, 3);
    let (watcher, rx, collector) = collecting();
    lock_watcher(&watcher).watch(&pidfd).expect("watch");
    // The child exits only once every injected failure has happened (no
    // event tells when; each failure is followed by a 10 ms back-off).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while fault::remaining("poll") > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the thread stopped polling after a failure"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(rx.try_recv().is_err(), "nothing to report yet");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"go\n").expect("write");
    }
    let batch = rx.recv_timeout(Duration::from_secs(30)).expect("a batch");
    assert_eq!(batch.len(), 1, "reported once");
    assert!(Arc::ptr_eq(&batch[0].pidfd, &pidfd));
    assert!(matches!(
        &batch[0].report,
        Report::Exited(info) if info.status == Some(ExitStatus::Exited(7))
    ));
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "and only once"
    );
    collector.stop();
    child.wait().expect("reap");
}
