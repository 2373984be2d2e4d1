//! What a pidfd tells and reaches of its process: info, identity,
//! descriptors, namespaces, signal scopes and pidfds from elsewhere. Each
//! test checks the feature where the kernel has it, and the error that names
//! the missing call where it does not.
mod common;

use std::io::BufReader;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::time::Duration;

use common::{pid_of, read_line, KillOnDrop};
use pidset::{kernel_support, Namespace, PidFd, SignalScope};

/// A `sleep` started directly: killing it leaves nothing behind (dash does
/// not exec the last command of `sh -c`, so killing the shell would).
fn sleeper() -> std::process::Child {
    std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .expect("spawn sleep")
}

#[test]
fn info_reports_pid_parent_and_credentials_of_a_running_child() {
    let mut child = sleeper();
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    let info = pidfd.info().expect("info");
    assert_eq!((info.pid, info.tgid), (pid_of(&child), pid_of(&child)));
    assert_eq!(info.ppid, std::process::id() as i32);
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    assert_eq!(
        (info.uid, info.euid, info.suid, info.fsuid),
        (uid, uid, uid, uid)
    );
    assert_eq!(
        (info.gid, info.egid, info.sgid, info.fsgid),
        (gid, gid, gid, gid)
    );
    child.kill().expect("kill");
    child.wait().expect("reap");
    let gone = pidfd.info().expect_err("exited");
    assert_eq!(gone.errno(), libc::ESRCH);
}

#[test]
fn id_and_same_process_compare_processes_not_handles() {
    let mut a = sleeper();
    let mut b = sleeper();
    let first = PidFd::open(pid_of(&a)).expect("open");
    let second = PidFd::open(pid_of(&a)).expect("open");
    let other = PidFd::open(pid_of(&b)).expect("open");
    assert!(first.same_process(&second).expect("compare"));
    assert!(!first.same_process(&other).expect("compare"));
    let pidfs = kernel_support().expect("probe").pidfs;
    match first.id() {
        Ok(id) => {
            assert!(pidfs);
            assert_eq!(Some(id), second.id().ok());
            assert_ne!(Some(id), other.id().ok());
        }
        Err(e) => {
            assert!(!pidfs);
            assert_eq!((e.errno(), e.syscall()), (libc::ENOSYS, "fstat pidfs"));
        }
    }
    for child in [&mut a, &mut b] {
        child.kill().expect("kill");
        child.wait().expect("reap");
    }
    // After the exit, pidfs still tells; before 6.9 only a handle itself is.
    assert_eq!(first.same_process(&second).expect("compare"), pidfs);
    assert!(first.same_process(&first).expect("compare"));
}

#[test]
fn get_fd_copies_a_descriptor_of_the_process() {
    let own = PidFd::open(std::process::id() as i32).expect("open self");
    let (ours, peer) = UnixStream::pair().expect("pair");
    match own.get_fd(ours.as_raw_fd()) {
        Ok(copy) => {
            // The copy is the same open file: what is written through it arrives.
            let copy = UnixStream::from(copy);
            std::io::Write::write_all(&mut &copy, b"x").expect("write");
            let mut byte = [0u8];
            std::io::Read::read_exact(&mut &peer, &mut byte).expect("read");
            assert_eq!(&byte, b"x");
            let bad = own.get_fd(-1).expect_err("no descriptor -1");
            assert_eq!(bad.errno(), libc::EBADF);
        }
        Err(e) => assert_eq!((e.errno(), e.syscall()), (libc::ENOSYS, "pidfd_getfd")),
    }
}

#[test]
fn namespace_is_the_process_namespace() {
    let own = PidFd::open(std::process::id() as i32).expect("open self");
    match own.namespace(Namespace::Net) {
        Ok(fd) => {
            let ns = std::fs::metadata("/proc/self/ns/net").expect("ns");
            let got = rustix::fs::fstat(&fd).expect("fstat");
            assert_eq!(got.st_ino, ns.ino());
        }
        Err(e) => assert_eq!(
            (e.errno(), e.syscall()),
            (libc::ENOTTY, "ioctl PIDFD_GET_NET_NAMESPACE")
        ),
    }
}

#[test]
fn a_peer_pidfd_names_the_process_across_the_socket() {
    let (a, _b) = UnixStream::pair().expect("pair");
    match PidFd::from_peer(a.as_fd()) {
        Ok(peer) => {
            assert_eq!(peer.pid(), std::process::id() as i32);
            assert!(!peer.has_exited().expect("poll"));
        }
        Err(e) => assert_eq!(
            (e.errno(), e.syscall()),
            (libc::ENOPROTOOPT, "getsockopt SO_PEERPIDFD")
        ),
    }
}

#[test]
fn adopt_takes_pidfds_and_refuses_other_descriptors() {
    let mut child = sleeper();
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    let adopted = PidFd::adopt(pidfd.as_fd()).expect("adopt");
    assert_eq!(adopted.pid(), pid_of(&child));
    assert_ne!(
        adopted.as_raw_fd(),
        pidfd.as_raw_fd(),
        "a duplicate of its own"
    );
    assert!(adopted.send_signal(libc::SIGKILL).expect("kill"));
    child.wait().expect("reap");
    let (plain, _other) = UnixStream::pair().expect("pair");
    let refused = PidFd::adopt(plain.as_fd()).expect_err("not a pidfd");
    assert_eq!(
        (refused.errno(), refused.operation(), refused.syscall()),
        (
            libc::EINVAL,
            Some(pidset::Operation::CheckPidfd),
            "fdinfo Pid"
        )
    );
}

#[test]
fn a_signal_scope_reaches_the_process_group() {
    // A shell leading its own group, with a sleep in the group.
    let mut child = std::process::Command::new("sh")
        .args(["-c", "sleep 1000 & echo $!; wait"])
        .stdout(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let pidfd = PidFd::open(pid_of(&child)).expect("open");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let member: i32 = read_line(&mut out).trim().parse().expect("pid");
    let member = PidFd::open(member).expect("open member");
    let _cleanup = KillOnDrop(vec![&pidfd, &member]);
    // The member leads no group: refused (ENOSYS before 6.9), never
    // reported as gone, and nothing sent.
    let refused = member
        .send_signal_to(libc::SIGKILL, SignalScope::ProcessGroup)
        .map(|_| ())
        .expect_err("a member that leads no group");
    assert!([libc::ESRCH, libc::ENOSYS].contains(&refused.errno()));
    assert!(!member.has_exited().expect("poll"));
    match pidfd.send_signal_to(libc::SIGKILL, SignalScope::ProcessGroup) {
        Ok(sent) => {
            assert!(sent);
            let status = child.wait().expect("reap");
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&status),
                Some(libc::SIGKILL)
            );
            // The group's other member got it too.
            let exit = member.wait(Some(Duration::from_secs(10))).expect("wait");
            assert!(exit.is_some(), "the sleep in the group exited");
        }
        Err(e) => {
            assert_eq!(e.errno(), libc::ENOSYS);
            assert_eq!(e.syscall(), "pidfd_send_signal PIDFD_SIGNAL_PROCESS_GROUP");
            member.send_signal(libc::SIGKILL).expect("kill member");
            child.kill().expect("kill");
            child.wait().expect("reap");
        }
    }
}
