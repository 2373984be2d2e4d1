//! Kill-to-wake-up latency of a thread blocked in `epoll_wait` on a pidfd:
//! the floor that the Node.js numbers in bench/ are compared with.
//!
//! `cargo bench -p pidset --bench latency_floor -- [trials]` prints one JSON
//! object: `{"samples_us": [...]}`, one sample per trial.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pidset::{Epoll, PidFd};
use std::os::fd::AsFd;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // cargo passes --bench to harness-less benches; the first number is ours.
    let trials = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(300);
    let mut epoll = Epoll::new()?;
    let mut ready = Vec::new();
    let mut samples = Vec::with_capacity(trials);
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..trials {
        let mut child = Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()?;
        let pid = i32::try_from(child.id())?;
        let pidfd = PidFd::open(pid)?;
        epoll.watch(pidfd.as_fd())?;
        // Land the kill at a random moment, as the Node trials do (0-5 ms).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 5000));
        let start = Instant::now();
        // SAFETY: kill(2) with a PID we spawned and have not reaped yet.
        if unsafe { libc::kill(pid, libc::SIGKILL) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        ready.clear();
        while epoll.ready(&mut ready, None)? == 0 {}
        samples.push(start.elapsed().as_secs_f64() * 1e6);
        epoll.unwatch(pidfd.as_fd())?;
        child.wait()?;
    }
    let list: Vec<String> = samples.iter().map(|s| format!("{s:.1}")).collect();
    println!("{{\"samples_us\": [{}]}}", list.join(","));
    Ok(())
}
