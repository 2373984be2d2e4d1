// Containment: a child spawned into a cgroup of its own, and its whole
// tree (setsid'd and double-forked members included) killed through it.
mod common;

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Duration;

use pidset::{spawn, Cgroup, SpawnOptions, Stdio};

/// A cgroup for a test, or why none can be made here (printed, and the
/// test returns early as skipped: cargo has no skip status).
fn cgroup_or_skip(test: &str) -> Option<Arc<Cgroup>> {
    match Cgroup::create(None) {
        Ok(cgroup) => Some(Arc::new(cgroup)),
        Err(err) => {
            println!("skipped {test}: no cgroup v2 of our own can be made here ({err})");
            None
        }
    }
}

/// A tree that tries every way out of a process tree: a setsid'd pair and a
/// double-forked sleep (orphaned at once), each printing its PID.
const ESCAPERS: &str = r#"
  setsid sh -c 'sleep 100 & echo $!; exec sleep 100' &
  sh -c 'sh -c "echo \$\$; exec sleep 100" &'
  echo ready
  exec sleep 100
"#;

fn spawn_in(cgroup: &Arc<Cgroup>, script: &str) -> (pidset::Child, BufReader<std::fs::File>) {
    let mut options = SpawnOptions::new("sh");
    options.args = vec!["-c".into(), script.into()];
    options.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Inherit];
    options.cgroup = Some(Arc::clone(cgroup));
    let mut child = spawn(&options).expect("spawn into the cgroup");
    let out = child.stdout.take().expect("stdout");
    (child, BufReader::new(std::fs::File::from(out)))
}

/// Reads lines until `ready` and `pids` other lines (PIDs) have come, in
/// any order: the tree's members print as they start.
fn until_ready(out: &mut BufReader<std::fs::File>, pids: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut ready = false;
    while !ready || lines.len() < pids {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).expect("read") > 0,
            "the tree ended early"
        );
        match line.trim() {
            "ready" => ready = true,
            other => lines.push(other.to_owned()),
        }
    }
    lines
}

#[test]
fn kill_takes_the_whole_tree_setsid_and_double_forks_included() {
    let Some(cgroup) = cgroup_or_skip("kill_takes_the_whole_tree") else {
        return;
    };
    let (child, mut out) = spawn_in(&cgroup, ESCAPERS);
    let escapers = until_ready(&mut out, 2);
    assert_eq!(escapers.len(), 2);
    let members = cgroup.members().expect("members");
    // sh (now sleep), the setsid'd sh and its sleep, the orphaned sleep.
    assert_eq!(
        members.len(),
        4,
        "{:?}",
        members.iter().map(|m| m.pid()).collect::<Vec<_>>()
    );
    for pid in &escapers {
        let pid: i32 = pid.parse().expect("pid");
        assert!(members.iter().any(|m| m.pid() == pid), "{pid} is a member");
    }
    assert!(cgroup.is_populated().expect("events"));
    cgroup.kill().expect("kill");
    for member in &members {
        assert!(member
            .wait(Some(Duration::from_secs(5)))
            .expect("wait")
            .is_some());
    }
    // A task leaves its cgroup as it exits, before its pidfd polls
    // readable: every member has, so `populated` is 0 already.
    assert!(!cgroup.is_populated().expect("events"));
    cgroup.remove().expect("remove the empty cgroup");
    child.pidfd.reap().expect("reap");
}

#[test]
fn signal_freezes_signals_every_member_and_thaws() {
    let Some(cgroup) = cgroup_or_skip("signal_freezes") else {
        return;
    };
    let (child, mut out) = spawn_in(&cgroup, ESCAPERS);
    until_ready(&mut out, 2);
    let members = cgroup.members().expect("members");
    assert_eq!(cgroup.signal(libc::SIGTERM).expect("signal"), 4);
    // Thawed: SIGTERM is acted on, and every member ends.
    for member in &members {
        assert!(member
            .wait(Some(Duration::from_secs(5)))
            .expect("wait")
            .is_some());
    }
    let events = std::fs::read_to_string(cgroup.path().join("cgroup.events")).expect("events");
    assert!(events.contains("frozen 0"), "{events}");
    assert!(events.contains("populated 0"), "{events}");
    cgroup.remove().expect("remove the empty cgroup");
    child.pidfd.reap().expect("reap");
}

#[test]
fn a_parent_that_is_not_a_cgroup_is_refused_and_leaves_nothing() {
    let dir = std::env::temp_dir().join(format!("pidset-not-a-cgroup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let err = Cgroup::create(Some(&dir)).expect_err("a plain directory is no cgroup");
    assert_eq!(err.errno(), libc::ENOENT, "no cgroup.procs there");
    assert_eq!(err.operation(), Some(pidset::Operation::Cgroup));
    assert_eq!(
        std::fs::read_dir(&dir).expect("read").count(),
        0,
        "nothing left behind"
    );
    std::fs::remove_dir(&dir).expect("rmdir");
}

#[test]
fn a_cgroup_with_processes_is_not_removed() {
    let Some(cgroup) = cgroup_or_skip("a_cgroup_with_processes") else {
        return;
    };
    let (child, mut out) = spawn_in(&cgroup, "echo ready; exec sleep 100");
    until_ready(&mut out, 0);
    assert_eq!(cgroup.remove().expect_err("busy").errno(), libc::EBUSY);
    let members = cgroup.members().expect("members");
    cgroup.kill().expect("kill");
    for member in &members {
        assert!(member
            .wait(Some(Duration::from_secs(5)))
            .expect("wait")
            .is_some());
    }
    cgroup.remove().expect("removed once empty");
    child.pidfd.reap().expect("reap");
}

#[test]
fn a_child_that_cannot_join_its_cgroup_never_runs_the_command() {
    let Some(cgroup) = cgroup_or_skip("a_child_that_cannot_join") else {
        return;
    };
    cgroup.remove().expect("remove");
    let marker = std::env::temp_dir().join(format!("pidset-cgroup-ran-{}", std::process::id()));
    let mut options = SpawnOptions::new("sh");
    options.args = vec!["-c".into(), format!("touch {}", marker.display()).into()];
    options.cgroup = Some(Arc::clone(&cgroup));
    let err = spawn(&options).expect_err("the cgroup is gone");
    assert_eq!(err.errno(), libc::ENOENT);
    assert!(!marker.exists(), "the command never ran");
}
