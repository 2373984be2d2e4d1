//! A reaped process's status (PIDFD_INFO_EXIT) asked for while its parent is
//! reaping it. In that window of a few microseconds the kernel has unhashed
//! the PID but not yet stored the status, and PIDFD_GET_INFO answers ESRCH,
//! which older kernels (6.13, 6.14) also answer for every reaped process.
//! Taking it for the latter once disabled statuses for the whole process.
//! In a file of its own: it runs in a process whose kernel knowledge no other
//! test has set.

mod common;

use std::io::BufReader;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{has_exit_info, read_line, sh};
use pidset::PidFd;

#[test]
fn a_status_asked_for_during_the_reap_comes_once_it_is_reaped() {
    if !has_exit_info() {
        eprintln!("skipped: PIDFD_INFO_EXIT needs Linux 6.15+");
        return;
    }
    // Each trial hits the window with some chance (about 1 in 30 here); 1000
    // make missing it in every one practically impossible.
    let asked = AtomicUsize::new(0);
    for trial in 0..1000 {
        let mut shell = sh("exec 2>/dev/null; sleep 30 & echo $!; wait $!; echo reaped; read _");
        let mut out = BufReader::new(shell.stdout.take().expect("stdout"));
        let grandchild: i32 = read_line(&mut out).parse().expect("pid");
        let pidfd = PidFd::open(grandchild).expect("open");
        let reaped = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !reaped.load(Ordering::Relaxed) {
                    let info = pidfd.exit_info().expect("exit_info");
                    if let Some(info) = info {
                        // Exited, and either known or known to come.
                        assert!(
                            info.status.is_some() || info.status_at_reap,
                            "trial {trial}: {info:?}"
                        );
                        asked.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            assert!(pidfd.send_signal(libc::SIGKILL).expect("kill"));
            assert_eq!(read_line(&mut out), "reaped");
            reaped.store(true, Ordering::Relaxed);
        });
        let info = pidfd.exit_info().expect("exit_info").expect("exited");
        assert_eq!(
            info.status.and_then(|s| s.signal()),
            Some(libc::SIGKILL),
            "trial {trial}: {info:?}"
        );
        shell.kill().expect("kill shell");
        shell.wait().expect("reap shell");
    }
    assert!(asked.load(Ordering::Relaxed) > 0, "asked during exits");
}
