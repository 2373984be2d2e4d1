//! This process's own resource usage (`getrusage(RUSAGE_SELF)`), which
//! rustix does not wrap.

/// This process's peak resident set size so far, in KiB; `None` if it
/// cannot be read.
pub(crate) fn own_max_rss_kib() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: writes one rusage into memory we own; zeroed is a valid rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: initialized above (zeroed, then filled by the kernel).
    let usage = unsafe { usage.assume_init() };
    u64::try_from(usage.ru_maxrss).ok()
}
