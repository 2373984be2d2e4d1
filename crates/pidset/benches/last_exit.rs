//! An independent observer for bench/scale.js: reads PIDs (one per line) from
//! stdin until an empty line, prints `ready`, then waits for all of them to
//! exit and prints the CLOCK_MONOTONIC time (in µs, the clock of Node's
//! `process.hrtime`) at which it saw the last one go. A tight Rust loop on
//! its own epoll set: a close upper bound on when the last exit happened.

use std::io::{BufRead, Write};
use std::os::fd::AsFd;

use pidset::{Epoll, PidFd};

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
    let mut ready = Vec::new();
    let mut seen = 0;
    let mut last = 0.0;
    while seen < pidfds.len() {
        let n = epoll.ready(&mut ready, None)?;
        if n > 0 {
            seen += n;
            last = monotonic_us();
        }
    }
    println!("{{\"last_exit_us\": {last:.1}, \"exits\": {seen}}}");
    Ok(())
}
