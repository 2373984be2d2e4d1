mod common;

use std::io::BufReader;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::{has_exit_info, pid_of, read_line, sh, NO_SUCH_PID};
use pidset::{ExitStatus, PidFd};

fn exit_of(script: &str) -> pidset::ExitInfo {
    let mut child = sh(script);
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    let info = pidfd.wait(None).expect("wait").expect("exited");
    // The zombie is still ours to reap: the library never reaps.
    let status = child.wait().expect("reap");
    assert_eq!(info.pid, pid_of(&child));
    assert_eq!(info.status.and_then(|s| s.code()), status.code());
    assert_eq!(info.status.and_then(|s| s.signal()), status.signal());
    info
}

#[test]
fn reports_exit_codes_of_our_children() {
    assert_eq!(exit_of("true").status, Some(ExitStatus::Exited(0)));
    assert_eq!(exit_of("false").status, Some(ExitStatus::Exited(1)));
    assert_eq!(exit_of("exit 7").status, Some(ExitStatus::Exited(7)));
}

#[test]
fn reports_the_signal_that_killed_a_child() {
    let info = exit_of("kill -9 $$");
    assert_eq!(info.status.and_then(|s| s.signal()), Some(libc::SIGKILL));
}

#[test]
fn reports_resource_usage_of_our_children() {
    // Burn some CPU in the child so the usage cannot be all zero.
    let info = exit_of("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done");
    let usage = info.rusage.expect("rusage of our own child");
    assert!(usage.user_cpu_time + usage.system_cpu_time > 0, "{usage:?}");
    // A child std started, not ours: its peak is told as the kernel gives it.
    assert!(usage.max_rss.is_some_and(|kib| kib > 0), "{usage:?}");
}

#[test]
fn signals_a_running_process_and_not_an_exited_one() {
    let mut child = sh("exec sleep 30");
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    assert!(!pidfd.has_exited().expect("poll"));
    assert_eq!(pidfd.exit_info().expect("exit_info"), None);
    assert!(pidfd.send_signal(0).expect("signal 0"));
    assert!(pidfd.send_signal(libc::SIGTERM).expect("SIGTERM"));
    let info = pidfd.wait(None).expect("wait").expect("exited");
    assert_eq!(info.status.and_then(|s| s.signal()), Some(libc::SIGTERM));
    // Exited but not reaped: a zombie would accept kill(2); we say false.
    assert!(!pidfd.send_signal(libc::SIGTERM).expect("after exit"));
    child.wait().expect("reap");
    // Reaped: the PID may be reused, but the handle still says "exited".
    assert!(!pidfd.send_signal(libc::SIGKILL).expect("after reap"));
    assert!(pidfd.has_exited().expect("poll"));
}

#[test]
fn wait_times_out_while_the_process_runs() {
    let mut child = sh("exec sleep 30");
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    assert_eq!(
        pidfd.wait(Some(Duration::from_millis(20))).expect("wait"),
        None
    );
    assert!(pidfd.send_signal(libc::SIGKILL).expect("kill"));
    assert!(pidfd
        .wait(Some(Duration::from_secs(30)))
        .expect("wait")
        .is_some());
    child.wait().expect("reap");
}

#[test]
fn open_fails_with_esrch_for_a_missing_process() {
    let err = PidFd::open(NO_SUCH_PID).expect_err("no such process");
    assert_eq!(err.errno(), libc::ESRCH);
    assert_eq!(err.syscall(), "pidfd_open");
    assert_eq!(err.pid(), Some(NO_SUCH_PID));
    assert!(err.to_string().contains(&NO_SUCH_PID.to_string()), "{err}");
}

#[test]
fn open_rejects_non_positive_pids() {
    for pid in [0, -1, i32::MIN] {
        assert_eq!(PidFd::open(pid).expect_err("bad pid").errno(), libc::EINVAL);
    }
}

#[test]
fn descriptors_are_close_on_exec() {
    let pidfd = PidFd::open(std::process::id() as i32).expect("open self");
    // SAFETY: F_GETFD on a descriptor we own reads its flags and nothing else.
    let flags = unsafe { libc::fcntl(pidfd.as_raw_fd(), libc::F_GETFD) };
    assert!(flags >= 0 && flags & libc::FD_CLOEXEC != 0, "flags {flags}");
}

#[test]
fn reports_a_reaped_non_child_from_pidfs() {
    // The grandchild is the shell's child, not ours: only its parent can
    // reap it, and after that only Linux 6.15+ still knows its status.
    let mut shell = sh("exec 2>/dev/null; sleep 30 & echo $!; wait $!; echo reaped; read _");
    let mut out = BufReader::new(shell.stdout.take().expect("stdout"));
    let grandchild: i32 = read_line(&mut out).parse().expect("pid");
    let pidfd = PidFd::open(grandchild).expect("open grandchild");
    assert!(pidfd.send_signal(libc::SIGKILL).expect("kill"));
    assert_eq!(read_line(&mut out), "reaped");
    let info = pidfd.exit_info().expect("exit_info").expect("exited");
    assert_eq!(info.rusage, None, "rusage is only known for our children");
    if has_exit_info() {
        assert_eq!(info.status.and_then(|s| s.signal()), Some(libc::SIGKILL));
    } else {
        eprintln!("skipped the status check: PIDFD_INFO_EXIT needs Linux 6.15+");
        assert_eq!(info.status, None);
    }
    shell.kill().expect("kill shell");
    shell.wait().expect("reap shell");
}

#[test]
fn kernel_support_agrees_with_what_the_calls_do() {
    let k = pidset::kernel_support().expect("probe");
    assert!(k.pidfd_open, "these tests run where pidfd_open works");
    // Each feature came after the one before it: a kernel cannot have one
    // without the earlier ones (a sandbox could, but not this one).
    assert!(k.waitid_pidfd && (!k.get_info || k.nonblock) && (!k.exit_info || k.get_info));
    // What it reports is what a reaped process actually gives.
    let mut child = sh("exit 9");
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    child.wait().expect("reap");
    let info = pidfd.exit_info().expect("exit_info").expect("exited");
    let code = info.status.and_then(|s| s.code());
    assert_eq!(code, k.exit_info.then_some(9));
    // Probing again answers the same.
    assert_eq!(pidset::kernel_support().expect("probe"), k);
}
