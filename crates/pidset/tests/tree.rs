// Process trees: descendants() and kill_tree() on real trees of processes.
mod common;

use std::collections::HashSet;
use std::io::BufReader;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::{pid_of, read_line};
use pidset::{descendants, kill_tree, PidFd};

/// One test at a time: a walk stops the processes it finds, and one test
/// walks this process's own tree.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A tree under `sh -c script`, with a marker in its environment so that a
/// test can look for any of its processes left alive afterwards.
struct Tree {
    root: Child,
    out: BufReader<ChildStdout>,
    marker: String,
}

impl Tree {
    fn start(script: &str) -> Self {
        Self::start_with(Command::new("sh").args(["-c", script]))
    }

    fn start_with(command: &mut Command) -> Self {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let marker = format!("{}-{n}", std::process::id());
        let mut root = command
            .env("PIDSET_TREE_TEST", &marker)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the tree's root");
        let out = BufReader::new(root.stdout.take().expect("stdout"));
        Self { root, out, marker }
    }

    /// The next `n` lines the tree printed, as PIDs.
    fn pids(&mut self, n: usize) -> HashSet<i32> {
        (0..n)
            .map(|_| read_line(&mut self.out).parse().expect("a PID"))
            .collect()
    }

    /// The live processes (zombies have no environment) that carry the marker.
    fn survivors(&self) -> Vec<i32> {
        let needle = format!("PIDSET_TREE_TEST={}\0", self.marker);
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle.as_bytes()))
            })
            .collect()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        if let Ok(root) = PidFd::open(pid_of(&self.root)) {
            let _ = kill_tree(&root, libc::SIGKILL, true);
        }
        let _ = self.root.wait();
    }
}

/// Waits until every handle's process has exited (5 s at most each).
fn all_exit(handles: &[PidFd]) {
    for pidfd in handles {
        let exited = pidfd.wait(Some(Duration::from_secs(5))).expect("wait");
        assert!(exited.is_some(), "{} still runs", pidfd.pid());
    }
}

/// Two levels below the root, each process printing its PID once started.
const THREE_LEVELS: &str = r#"
  sh -c 'echo $$; sh -c "echo \$\$; exec sleep 100" & sh -c "echo \$\$; exec sleep 100" & wait' &
  sh -c 'echo $$; exec sleep 100' &
  wait
"#;

#[test]
fn descendants_are_every_process_below_the_root_and_nothing_else() {
    let _serial = serial();
    let mut tree = Tree::start(THREE_LEVELS);
    let expected = tree.pids(4);
    let root = PidFd::open(pid_of(&tree.root)).expect("open root");
    let found: HashSet<i32> = descendants(&root)
        .expect("descendants")
        .iter()
        .map(PidFd::pid)
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn descendants_lists_parents_before_their_children() {
    let _serial = serial();
    let mut tree = Tree::start(THREE_LEVELS);
    tree.pids(4);
    let root = PidFd::open(pid_of(&tree.root)).expect("open root");
    let found = descendants(&root).expect("descendants");
    let at: Vec<i32> = found.iter().map(PidFd::pid).collect();
    for (index, pidfd) in found.iter().enumerate() {
        let parent = pidfd.info().expect("info").ppid;
        assert!(
            parent == root.pid() || at[..index].contains(&parent),
            "{} came before its parent {parent}",
            pidfd.pid()
        );
    }
}

#[test]
fn a_root_that_has_exited_has_no_descendants() {
    let _serial = serial();
    let mut child = common::sh("exit 0");
    let root = PidFd::open(pid_of(&child)).expect("open");
    child.wait().expect("reap");
    assert!(descendants(&root).expect("descendants").is_empty());
}

#[test]
fn kill_tree_ends_every_process_of_a_three_level_tree() {
    let _serial = serial();
    let mut tree = Tree::start(THREE_LEVELS);
    let expected = tree.pids(4);
    let root = PidFd::open(pid_of(&tree.root)).expect("open root");
    let killed = kill_tree(&root, libc::SIGKILL, true).expect("kill_tree");
    assert!(killed.error.is_none());
    let signalled: HashSet<i32> = killed.signalled.iter().map(PidFd::pid).collect();
    let mut all = expected.clone();
    all.insert(root.pid());
    assert_eq!(signalled, all);
    all_exit(&killed.signalled);
    assert_eq!(tree.survivors(), Vec::<i32>::new());
}

#[test]
fn kill_tree_without_the_root_leaves_it_running_and_not_stopped() {
    let _serial = serial();
    let mut tree = Tree::start(THREE_LEVELS);
    tree.pids(4);
    let root = PidFd::open(pid_of(&tree.root)).expect("open root");
    let killed = kill_tree(&root, libc::SIGTERM, false).expect("kill_tree");
    assert_eq!(killed.signalled.len(), 4);
    assert!(killed.signalled.iter().all(|p| p.pid() != root.pid()));
    all_exit(&killed.signalled);
    // The root's `wait` returns once its children are gone: it was
    // continued after the walk stopped it.
    let status = tree.root.wait().expect("wait root");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_tree_that_keeps_forking_while_it_is_killed_leaves_nothing() {
    let _serial = serial();
    // Forks as fast as it can, for ever; every child sleeps. It says when
    // it has a crowd of 2,000, and goes on.
    let mut tree =
        Tree::start("i=0; while :; do sleep 100 & i=$((i + 1)); [ $i = 2000 ] && echo $$; done");
    tree.pids(1);
    let root = PidFd::open(pid_of(&tree.root)).expect("open root");
    let killed = kill_tree(&root, libc::SIGKILL, true).expect("kill_tree");
    assert!(killed.signalled.len() >= 2000, "{}", killed.signalled.len());
    all_exit(&killed.signalled);
    assert_eq!(tree.survivors(), Vec::<i32>::new());
}

#[test]
fn a_chain_of_200_is_killed_to_the_last_link() {
    let _serial = serial();
    // Each link runs the script again (its own text, as $0) one lower.
    let link = r#"if [ "$1" -gt 0 ]; then sh -c "$0" "$0" $(($1 - 1)) & wait; else echo $$; exec sleep 100; fi"#;
    let mut tree = Tree::start_with(Command::new("sh").args(["-c", link, link, "200"]));
    let leaf = tree.pids(1);
    let root = PidFd::open(pid_of(&tree.root)).expect("open root");
    let below = descendants(&root).expect("descendants");
    assert_eq!(below.len(), 200);
    assert!(
        leaf.contains(&below[199].pid()),
        "the last link is the leaf"
    );
    let killed = kill_tree(&root, libc::SIGKILL, true).expect("kill_tree");
    assert_eq!(killed.signalled.len(), 201);
    all_exit(&killed.signalled);
    assert_eq!(tree.survivors(), Vec::<i32>::new());
}

#[test]
fn a_detached_tree_whose_middle_exited_first_is_killed_whole() {
    let _serial = serial();
    // The root leads its session (setsid(1) calls setsid and execs: our
    // child is no group leader). Its child starts a sleep and exits at
    // once, so the sleep is an orphan, no longer below the root, but still
    // in its session.
    let mut tree = Tree::start_with(Command::new("setsid").args([
        "sh",
        "-c",
        r#"sh -c 'sleep 100 & echo $!'; echo $$; exec sleep 100"#,
    ]));
    let pids = tree.pids(2);
    let root = PidFd::open(pid_of(&tree.root)).expect("open root");
    let orphan = pids
        .iter()
        .copied()
        .find(|&p| p != root.pid())
        .expect("orphan pid");
    let orphan_fd = PidFd::open(orphan).expect("open orphan");
    assert_ne!(
        orphan_fd.info().expect("info").ppid,
        root.pid(),
        "reparented"
    );
    assert!(descendants(&root).expect("descendants").is_empty());
    let killed = kill_tree(&root, libc::SIGKILL, true).expect("kill_tree");
    let signalled: HashSet<i32> = killed.signalled.iter().map(PidFd::pid).collect();
    assert!(
        signalled.contains(&orphan),
        "the orphan was found through the session"
    );
    all_exit(&killed.signalled);
    assert!(orphan_fd.has_exited().expect("poll"));
    assert_eq!(tree.survivors(), Vec::<i32>::new());
}

#[test]
fn kill_tree_never_stops_or_signals_this_process() {
    let _serial = serial();
    // Our own tree: this test process's children are below it. Only a
    // child is in it here; the call must come back (a stopped self would
    // never return) and not report this process as signalled.
    let mut child = common::sh("exec sleep 100");
    let me = PidFd::open(std::process::id() as i32).expect("open self");
    let killed = kill_tree(&me, 0, true).expect("kill_tree");
    assert!(killed.signalled.iter().all(|p| p.pid() != me.pid()));
    assert!(killed.signalled.iter().any(|p| p.pid() == pid_of(&child)));
    child.kill().expect("kill");
    child.wait().expect("reap");
}
