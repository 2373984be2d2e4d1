//! Kill-to-wake-up latency of a thread blocked in `epoll_wait` on a pidfd:
//! the floor that the Node.js numbers in bench/ are compared with.
//!
//! `cargo bench -p pidset --bench latency_floor -- [trials]` prints one JSON
//! object, `{"samples_us": [...]}`, one sample per trial: a `sleep` child of
//! this program, killed, until its pidfd is readable.
//!
//! `... -- [trials] foreign` measures a process that is not ours: a `sleep`
//! started by a bash that reaps it when SIGCHLD comes, as the bench's
//! not-our-child trials do. It prints `samples_us` (until the pidfd is
//! readable: the exit) and `reaped_us` (until it hangs up: the reap, the
//! moment its status is known, which its parent decides).

use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pidset::{Epoll, Interest, PidFd};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A `sleep 1000` to kill: our child, or the child of a reaping bash.
struct Target {
    pid: i32,
    /// What to wait for once the trial is over.
    parent_or_self: Child,
}

fn own_sleeper() -> Result<Target> {
    let child = Command::new("sleep")
        .arg("1000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    Ok(Target {
        pid: i32::try_from(child.id())?,
        parent_or_self: child,
    })
}

fn foreign_sleeper() -> Result<Target> {
    // Blocked in `read` as the bench's spawner is, bash reaps the sleep in
    // its SIGCHLD handler; it exits when its stdin closes (see `finish`).
    let mut bash = Command::new("bash")
        .args(["-c", "sleep 1000 & echo $!; read"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = bash.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    Ok(Target {
        pid: line.trim().parse()?,
        parent_or_self: bash,
    })
}

fn main() -> Result<()> {
    // cargo passes --bench to harness-less benches; the first number is ours.
    let trials = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(300);
    let foreign = std::env::args().any(|a| a == "foreign");
    let mut epoll = Epoll::new()?;
    let mut ready = Vec::new();
    let mut samples = Vec::with_capacity(trials);
    let mut reaped = Vec::with_capacity(trials);
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..trials {
        let mut target = if foreign {
            foreign_sleeper()?
        } else {
            own_sleeper()?
        };
        let pidfd = PidFd::open(target.pid)?;
        epoll.watch(pidfd.as_fd())?;
        // Land the kill at a random moment, as the Node trials do (0-5 ms).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 5000));
        let start = Instant::now();
        // SAFETY: kill(2) on a PID that cannot have been reused: it is our
        // unreaped child, or the child of a bash that waits for the kill.
        if unsafe { libc::kill(target.pid, libc::SIGKILL) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        ready.clear();
        while epoll.ready(&mut ready, None)? == 0 {}
        samples.push(start.elapsed().as_secs_f64() * 1e6);
        if foreign {
            // Hang-up only: the pidfd stays readable from the exit on.
            epoll.arm(pidfd.as_fd(), Interest::Reap)?;
            ready.clear();
            while epoll.ready(&mut ready, None)? == 0 {}
            reaped.push(start.elapsed().as_secs_f64() * 1e6);
        }
        epoll.unwatch(pidfd.as_fd())?;
        // Closing bash's stdin ends its `read`; a sleep has no stdin of ours.
        drop(target.parent_or_self.stdin.take());
        target.parent_or_self.wait()?;
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{s:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    if foreign {
        println!(
            "{{\"samples_us\": [{}], \"reaped_us\": [{}]}}",
            list(&samples),
            list(&reaped)
        );
    } else {
        println!("{{\"samples_us\": [{}]}}", list(&samples));
    }
    Ok(())
}
