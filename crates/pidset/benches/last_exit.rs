//! An independent observer for bench/scale.js: reads PIDs (one per line) from
//! stdin until an empty line, prints `ready`, then waits for all of them to
//! exit and be reaped by their parent, and prints the CLOCK_MONOTONIC times
//! (in µs, the clock of Node's `process.hrtime`) at which it saw the last
//! one exit and the last one reaped. A tight Rust loop on its own epoll set:
//! a close upper bound on when each happened.

use std::io::{BufRead, Write};
use std::os::fd::{AsFd, AsRawFd};

use std::collections::HashMap;

use pidset::{Epoll, Interest, PidFd};

fn monotonic_us() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into valid local storage.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut epoll = Epoll::new()?;
    let mut pidfds = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let Ok(pid) = line.trim().parse::<i32>() else {
            break;
        };
        let pidfd = PidFd::open(pid)?;
        epoll.watch(pidfd.as_fd())?;
        pidfds.push(pidfd);
    }
    println!("ready");
    std::io::stdout().flush()?;
    let by_fd: HashMap<i32, &PidFd> = pidfds.iter().map(|p| (p.as_raw_fd(), p)).collect();
    let mut ready = Vec::new();
    let (mut exits, mut reaps) = (0, 0);
    let (mut last_exit, mut last_reap) = (0.0, 0.0);
    // Each is reported twice: its exit (armed for that first), then, armed
    // again for the hang-up alone, its reap by its parent.
    let mut exited = std::collections::HashSet::new();
    while reaps < pidfds.len() {
        ready.clear();
        epoll.ready(&mut ready, None)?;
        let now = monotonic_us();
        for fd in ready.drain(..) {
            let Some(pidfd) = by_fd.get(&fd) else {
                continue;
            };
            if exited.insert(fd) {
                exits += 1;
                last_exit = now;
                if epoll.arm(pidfd.as_fd(), Interest::Reap).is_err() {
                    reaps += 1;
                    last_reap = now;
                }
            } else {
                reaps += 1;
                last_reap = now;
            }
        }
    }
    println!("{{\"last_exit_us\": {last_exit:.1}, \"last_reap_us\": {last_reap:.1}, \"exits\": {exits}}}");
    Ok(())
}
