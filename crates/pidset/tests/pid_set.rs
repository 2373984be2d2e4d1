mod common;

use std::time::Duration;

use common::{pid_of, sh, NO_SUCH_PID};
use pidset::{Epoll, PidFd, PidSet};
use std::os::fd::{AsFd, AsRawFd};

#[test]
fn wait_any_reports_the_first_to_exit_and_removes_it() {
    let mut sleeper = sh("exec sleep 30");
    let mut quick = sh("exit 3");
    let mut set = PidSet::new().expect("set");
    set.open(pid_of(&sleeper)).expect("open sleeper");
    set.open(pid_of(&quick)).expect("open quick");
    assert_eq!(set.len(), 2);

    let first = set.wait_any(None).expect("wait_any").expect("an exit");
    assert_eq!(first.pid, pid_of(&quick));
    assert_eq!(first.status.and_then(|s| s.code()), Some(3));
    assert!(!set.contains(pid_of(&quick)));
    assert_eq!(set.len(), 1);

    assert_eq!(
        set.wait_any(Some(Duration::from_millis(20))).expect("wait"),
        None
    );
    assert!(set.contains(pid_of(&sleeper)), "a timeout removes nothing");

    sleeper.kill().expect("kill");
    let second = set.wait_any(None).expect("wait_any").expect("an exit");
    assert_eq!(second.pid, pid_of(&sleeper));
    assert!(set.is_empty());
    assert_eq!(set.wait_any(None).expect("empty"), None);
    quick.wait().expect("reap");
    sleeper.wait().expect("reap");
}

#[test]
fn wait_all_reports_every_member_in_exit_order() {
    let mut children: Vec<_> = (0..5).map(|_| sh("exec sleep 30")).collect();
    let mut set = PidSet::new().expect("set");
    for child in &children {
        set.insert(PidFd::open(pid_of(child)).expect("open"))
            .expect("insert");
    }
    // Kill in reverse order, each after the previous one is seen to exit, so
    // the exit order is known.
    let mut order = Vec::new();
    for child in children.iter_mut().rev() {
        child.kill().expect("kill");
        let pidfd = PidFd::open(pid_of(child)).expect("reopen");
        pidfd.wait(None).expect("wait").expect("exited");
        order.push(pid_of(child));
    }
    let all = set.wait_all(None).expect("wait_all").expect("all exited");
    assert_eq!(all.iter().map(|i| i.pid).collect::<Vec<_>>(), order);
    assert!(all
        .iter()
        .all(|i| i.status.and_then(|s| s.signal()) == Some(libc::SIGKILL)));
    assert!(set.is_empty());
    assert_eq!(set.wait_all(None).expect("empty"), Some(vec![]));
    for child in &mut children {
        child.wait().expect("reap");
    }
}

#[test]
fn wait_all_times_out_and_keeps_what_exited() {
    let mut done = sh("exit 0");
    let mut running = sh("exec sleep 30");
    let mut set = PidSet::new().expect("set");
    set.open(pid_of(&done)).expect("open");
    set.open(pid_of(&running)).expect("open");
    PidFd::open(pid_of(&done))
        .expect("open")
        .wait(None)
        .expect("wait");
    assert_eq!(
        set.wait_all(Some(Duration::from_millis(20))).expect("wait"),
        None
    );
    assert_eq!(set.len(), 2);
    running.kill().expect("kill");
    let all = set.wait_all(None).expect("wait").expect("all");
    assert_eq!(
        all.iter().map(|i| i.pid).collect::<Vec<_>>(),
        [pid_of(&done), pid_of(&running)]
    );
    done.wait().expect("reap");
    running.wait().expect("reap");
}

#[test]
fn remove_stops_watching_and_returns_the_handle() {
    let mut child = sh("exit 0");
    let mut set = PidSet::new().expect("set");
    set.open(pid_of(&child)).expect("open");
    set.open(pid_of(&child)).expect("adding twice is a no-op");
    assert_eq!(set.len(), 1);
    let pidfd = set.remove(pid_of(&child)).expect("member");
    assert_eq!(pidfd.pid(), pid_of(&child));
    assert!(set.remove(pid_of(&child)).is_none());
    assert_eq!(
        set.wait_any(Some(Duration::from_millis(50))).expect("wait"),
        None
    );
    child.wait().expect("reap");
}

#[test]
fn open_of_a_missing_process_leaves_the_set_unchanged() {
    let mut set = PidSet::new().expect("set");
    let err = set.open(NO_SUCH_PID).expect_err("no such process");
    assert_eq!(err.errno(), libc::ESRCH);
    assert!(set.is_empty());
}

#[test]
fn epoll_reports_each_exit_once_per_arming() {
    let mut child = sh("exit 0");
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    let mut epoll = Epoll::new().expect("epoll");
    epoll.watch(pidfd.as_fd()).expect("watch");
    let mut ready = Vec::new();
    assert_eq!(epoll.ready(&mut ready, None).expect("ready"), 1);
    assert_eq!(ready, [pidfd.as_raw_fd()]);
    // Still exited, but disarmed: no level-triggered repeat.
    assert_eq!(
        epoll
            .ready(&mut ready, Some(Duration::ZERO))
            .expect("ready"),
        0
    );
    epoll.watch(pidfd.as_fd()).expect("re-arm");
    assert_eq!(
        epoll
            .ready(&mut ready, Some(Duration::ZERO))
            .expect("ready"),
        1
    );
    epoll.unwatch(pidfd.as_fd()).expect("unwatch");
    epoll
        .unwatch(pidfd.as_fd())
        .expect("unwatch twice is harmless");
    child.wait().expect("reap");
}
