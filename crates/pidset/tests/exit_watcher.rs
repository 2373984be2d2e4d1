mod common;

use std::io::BufReader;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::Duration;

use common::{has_exit_info, pid_of, read_line, sh};
use pidset::{Event, ExitStatus, ExitWatcher, PidFd, Report};

/// Collects until `count` events have come (each call may return a few).
fn collect(watcher: &mut ExitWatcher, count: usize) -> Vec<Event> {
    let mut events = Vec::new();
    while events.len() < count {
        watcher.collect(Some(Duration::from_secs(30)), &mut events);
    }
    events
}

fn exited(event: &Event) -> pidset::ExitInfo {
    match &event.report {
        Report::Exited(info) => *info,
        other => panic!("expected an exit, got {other:?}"),
    }
}

#[test]
fn reports_each_exit_once_and_keeps_watching_the_others() {
    let mut a = sh("exit 3");
    let mut b = sh("exec sleep 30");
    let pa = Arc::new(PidFd::open(pid_of(&a)).expect("open"));
    let pb = Arc::new(PidFd::open(pid_of(&b)).expect("open"));
    let mut watcher = ExitWatcher::new().expect("watcher");
    watcher.watch(&pa).expect("watch a");
    watcher.watch(&pb).expect("watch b");
    assert_eq!(watcher.len(), 2);

    let events = collect(&mut watcher, 1);
    assert_eq!(events.len(), 1);
    assert!(Arc::ptr_eq(&events[0].pidfd, &pa));
    assert_eq!(exited(&events[0]).status, Some(ExitStatus::Exited(3)));
    assert!(
        !watcher.is_watched(&pa),
        "reported once, then no longer watched"
    );
    assert!(watcher.is_watched(&pb));

    let mut none = Vec::new();
    assert_eq!(
        watcher.collect(Some(Duration::from_millis(20)), &mut none),
        0
    );
    b.kill().expect("kill b");
    let events = collect(&mut watcher, 1);
    assert!(Arc::ptr_eq(&events[0].pidfd, &pb));
    assert_eq!(
        exited(&events[0]).status.and_then(|s| s.signal()),
        Some(libc::SIGKILL)
    );
    assert!(watcher.is_empty());
    a.wait().expect("reap");
    b.wait().expect("reap");
}

#[test]
fn unwatched_processes_are_not_reported_and_their_descriptor_lives_while_watched() {
    let mut child = sh("exec sleep 30");
    let pidfd = Arc::new(PidFd::open(pid_of(&child)).expect("open"));
    let fd = pidfd.as_raw_fd();
    let mut watcher = ExitWatcher::new().expect("watcher");
    watcher.watch(&pidfd).expect("watch");
    let weak = Arc::downgrade(&pidfd);
    drop(pidfd);
    // The watcher shares ownership: the descriptor is still open.
    let pidfd = weak.upgrade().expect("held by the watcher");
    // SAFETY: F_GETFD only reads the flags of a descriptor we hold open.
    assert!(unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0);
    assert!(watcher.unwatch(&pidfd));
    assert!(!watcher.unwatch(&pidfd), "unwatching twice is harmless");
    child.kill().expect("kill");
    child.wait().expect("reap");
    let mut events = Vec::new();
    assert_eq!(
        watcher.collect(Some(Duration::from_millis(50)), &mut events),
        0
    );
    drop(pidfd);
    assert!(
        weak.upgrade().is_none(),
        "unwatching released the watcher's share"
    );
}

/// Stops `child` and returns once the kernel reports it stopped, so it can
/// no longer run (and so cannot reap anything) until SIGCONT.
fn stop_and_confirm(child: &std::process::Child) {
    let pid = pid_of(child);
    // SAFETY: kill has no memory arguments; `pid` is our unreaped child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "SIGSTOP");
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t; WNOWAIT leaves the
    // stop to be reported again, so nothing else's view changes.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WSTOPPED | libc::WNOWAIT,
        )
    };
    assert_eq!(rc, 0, "waitid(WSTOPPED)");
}

/// Blocks until the process behind `pidfd` has exited (its pidfd polls
/// readable).
fn until_exited(pidfd: &PidFd) {
    let fd = pidfd.as_fd();
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let patience = rustix::event::Timespec {
        tv_sec: 30,
        tv_nsec: 0,
    };
    assert_eq!(
        rustix::event::poll(&mut fds, Some(&patience)).expect("poll"),
        1
    );
}

/// A shell whose background `sleep` (its child, not ours) is killed while
/// the shell is stopped, so that nothing reaps it until the shell goes on;
/// its stdout, and the sleep's pidfd, watched.
fn unreaped_grandchild() -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    Arc<PidFd>,
) {
    // Shells may reap a background child at any SIGCHLD, not only in
    // `wait`, so the shell is stopped while the grandchild dies.
    let mut shell = sh("exec 2>/dev/null; sleep 30 & echo $!; wait $!; echo reaped; read _");
    let mut out = BufReader::new(shell.stdout.take().expect("stdout"));
    let grandchild: i32 = read_line(&mut out).parse().expect("pid");
    let pidfd = Arc::new(PidFd::open(grandchild).expect("open"));
    stop_and_confirm(&shell);
    assert!(pidfd.send_signal(libc::SIGKILL).expect("kill"));
    until_exited(&pidfd);
    (shell, out, pidfd)
}

fn end_shell(mut shell: std::process::Child) {
    // SAFETY: kill has no memory arguments; the shell is our unreaped child.
    unsafe { libc::kill(pid_of(&shell), libc::SIGCONT) };
    shell.kill().expect("kill shell");
    shell.wait().expect("reap shell");
}

#[test]
fn a_non_childs_exit_is_reported_at_its_parents_reap_with_its_status() {
    let (shell, mut out, pidfd) = unreaped_grandchild();
    let mut watcher = ExitWatcher::new().expect("watcher");
    watcher.watch(&pidfd).expect("watch");
    let mut events = Vec::new();
    watcher.collect(Some(Duration::ZERO), &mut events);
    if !has_exit_info() {
        eprintln!("skipped the reap check: PIDFD_INFO_EXIT needs Linux 6.15+");
        assert_eq!(events.len(), 1);
        assert_eq!(exited(&events[0]).status, None);
        end_shell(shell);
        return;
    }
    // Exited, but its status comes at the reap: nothing reported yet.
    assert!(events.is_empty(), "{events:?}");
    assert!(watcher.is_watched(&pidfd), "still watched, for the reap");
    // SAFETY: kill has no memory arguments; the shell is our unreaped child.
    assert_eq!(unsafe { libc::kill(pid_of(&shell), libc::SIGCONT) }, 0);
    assert_eq!(read_line(&mut out), "reaped");
    let reported = collect(&mut watcher, 1);
    let info = exited(&reported[0]);
    assert_eq!(info.status.and_then(|s| s.signal()), Some(libc::SIGKILL));
    assert!(!info.status_at_reap);
    assert!(watcher.is_empty());
    end_shell(shell);
}

#[test]
fn a_non_child_its_parent_does_not_reap_is_reported_without_status_after_the_grace() {
    let (shell, _out, pidfd) = unreaped_grandchild();
    let mut watcher = ExitWatcher::new().expect("watcher");
    let started = std::time::Instant::now();
    watcher.watch(&pidfd).expect("watch");
    // A blocking collect: the grace's timer is what wakes it.
    let reported = collect(&mut watcher, 1);
    let waited = started.elapsed();
    let info = exited(&reported[0]);
    assert_eq!(info.status, None);
    assert!(!info.status_at_reap);
    assert!(watcher.is_empty());
    if has_exit_info() {
        assert!(waited >= pidset::REAP_GRACE, "reported after {waited:?}");
    }
    // Nothing more: the grace's timer is quiet again.
    assert!(!readable(watcher.as_fd()));
    end_shell(shell);
}

#[test]
fn blocking_wait_waits_for_the_reap_of_a_non_child_within_the_grace() {
    let mut shell = sh("exec 2>/dev/null; sleep 30 & echo $!; wait $!; read _");
    let mut out = BufReader::new(shell.stdout.take().expect("stdout"));
    let grandchild: i32 = read_line(&mut out).parse().expect("pid");
    let pidfd = PidFd::open(grandchild).expect("open");
    assert!(pidfd.send_signal(libc::SIGKILL).expect("kill"));
    let info = pidfd.wait(None).expect("wait").expect("exited");
    if has_exit_info() {
        assert_eq!(info.status.and_then(|s| s.signal()), Some(libc::SIGKILL));
    } else {
        eprintln!("skipped the status check: PIDFD_INFO_EXIT needs Linux 6.15+");
    }
    shell.kill().expect("kill shell");
    shell.wait().expect("reap shell");
}

/// Whether `fd` polls readable now.
fn readable(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    rustix::event::poll(&mut fds, Some(&rustix::event::Timespec::default())).expect("poll") == 1
}

#[test]
fn reports_given_back_come_first_and_keep_the_descriptor_readable_until_then() {
    let mut child = sh("exit 6");
    let pidfd = Arc::new(PidFd::open(pid_of(&child)).expect("open"));
    let mut watcher = ExitWatcher::new().expect("watcher");
    watcher.watch(&pidfd).expect("watch");
    let mut events = collect(&mut watcher, 1);
    assert!(!readable(watcher.as_fd()), "one-shot: reported, then quiet");

    // Delivery failed: the report goes back, and the watcher says so.
    watcher.give_back(&mut events);
    assert!(events.is_empty());
    assert!(readable(watcher.as_fd()));
    let again = collect(&mut watcher, 1);
    assert_eq!(again.len(), 1);
    assert!(Arc::ptr_eq(&again[0].pidfd, &pidfd));
    assert_eq!(exited(&again[0]).status, Some(ExitStatus::Exited(6)));
    assert!(!readable(watcher.as_fd()), "handed out: quiet again");
    let mut none = Vec::new();
    assert_eq!(watcher.collect(Some(Duration::ZERO), &mut none), 0);
    child.wait().expect("reap");
}

#[test]
fn an_owned_child_is_reaped_by_its_report_and_another_handle_reads_first() {
    let mut options = pidset::SpawnOptions::new("sh");
    options.args = vec!["-c".into(), "exit 4".into()];
    let child = Arc::new(pidset::spawn(&options).expect("spawn").pidfd);
    // Another handle to the same process, watched too (as a user's own).
    let other = Arc::new(PidFd::open(child.pid()).expect("open"));
    let mut watcher = ExitWatcher::new().expect("watcher");
    watcher.watch_child(&child).expect("watch child");
    watcher.watch(&other).expect("watch other");
    until_exited(&other);
    let events = collect(&mut watcher, 2);
    // The plain handle is read first, before the reap takes the status.
    assert!(Arc::ptr_eq(&events[0].pidfd, &other));
    assert!(Arc::ptr_eq(&events[1].pidfd, child.pidfd()));
    for event in &events {
        let info = exited(event);
        assert_eq!(info.status, Some(ExitStatus::Exited(4)));
        assert!(info.rusage.is_some(), "read as our child, with rusage");
    }
    assert!(child.is_reaped(), "reaped by the report");
    assert!(!other.is_unreaped_child().expect("waitid"));
    assert!(watcher.is_empty());
}
