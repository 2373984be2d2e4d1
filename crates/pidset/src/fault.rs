//! Test-only fault injection: makes the next calls of a named system call
//! fail with a chosen errno, so that tests can prove what happens when the
//! kernel fails in the middle of an operation. It exists only with the
//! `fault-injection` cargo feature, which release builds never enable.

use std::sync::Mutex;

struct Fault {
    syscall: String,
    errno: i32,
    remaining: u32,
}

static FAULTS: Mutex<Vec<Fault>> = Mutex::new(Vec::new());

/// Makes the next `times` calls of `syscall` (as named in errors, such as
/// `"waitid"` or `"epoll_wait"`) fail with `errno`; `times == 0` removes the
/// fault.
pub fn inject(syscall: &str, errno: i32, times: u32) {
    let mut faults = FAULTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    faults.retain(|f| f.syscall != syscall);
    if times > 0 {
        faults.push(Fault {
            syscall: syscall.to_owned(),
            errno,
            remaining: times,
        });
    }
}

/// The errno an injected fault makes `syscall` fail with, if any; uses it
/// up. Public so that the binding can inject faults into its own calls
/// (Node-API) the same way.
pub fn take(syscall: &str) -> Option<i32> {
    let mut faults = FAULTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let index = faults.iter().position(|f| f.syscall == syscall)?;
    let fault = &mut faults[index];
    let errno = fault.errno;
    fault.remaining -= 1;
    if fault.remaining == 0 {
        faults.remove(index);
    }
    Some(errno)
}

/// How many injected failures of `syscall` are still to come.
pub fn remaining(syscall: &str) -> u32 {
    let faults = FAULTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    faults
        .iter()
        .find(|f| f.syscall == syscall)
        .map_or(0, |f| f.remaining)
}
