// The peak memory a spawned child reports is its own, never ours: a file
// of its own, so that no other test's memory moves this process's peak.

use std::time::Duration;

use pidset::{spawn, ResourceUsage, SpawnOptions};

/// The resource usage of `sh -c script`, started by pidset and reaped.
fn usage_of(script: &str) -> ResourceUsage {
    let mut options = SpawnOptions::new("sh");
    options.args = vec!["-c".into(), script.into()];
    let child = spawn(&options).expect("spawn");
    assert!(child
        .pidfd
        .wait(Some(Duration::from_secs(30)))
        .expect("wait")
        .is_some());
    let info = child.pidfd.reap().expect("reap").expect("exited");
    info.rusage.expect("our own child's rusage")
}

/// This process's peak RSS, in KiB.
fn own_peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .expect("a number")
}

#[test]
fn a_spawned_childs_peak_is_its_own_or_unknown_never_ours() {
    // A child that builds a 20 MB string: far above this small test
    // process's peak, so its own figure is known.
    let big = usage_of("x=$(head -c 20000000 /dev/zero | tr '\\0' a); echo ${#x} >/dev/null");
    let peak = big.max_rss.expect("a peak above ours is the child's own");
    assert!(peak >= 20_000, "{peak} KiB");
    // Now this process holds 200 MB: a child started from it inherits that
    // peak, which must not be reported as the child's.
    let ballast = vec![1u8; 200 << 20];
    assert!(own_peak_kib() >= 200 << 10);
    let small = usage_of("exit 0");
    assert!(
        small.max_rss.is_none_or(|kib| kib < 100 << 10),
        "a shell reported as using {:?} KiB",
        small.max_rss
    );
    assert_eq!(small.max_rss, None, "at or below our peak: not known");
    drop(ballast);
}
