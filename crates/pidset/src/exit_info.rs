/// How a process ended, when the kernel could tell without reaping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` (or returned from `main`) with this code.
    Exited(i32),
    /// A signal with this number ended it.
    Signaled {
        /// The signal number, for example `libc::SIGKILL`.
        signal: i32,
        /// Whether it dumped core.
        core_dumped: bool,
    },
}

impl ExitStatus {
    /// Decodes a `waitpid`-style status word (as PIDFD_GET_INFO reports it).
    pub fn from_wait_status(status: i32) -> Option<Self> {
        if libc::WIFEXITED(status) {
            Some(Self::Exited(libc::WEXITSTATUS(status)))
        } else if libc::WIFSIGNALED(status) {
            Some(Self::Signaled {
                signal: libc::WTERMSIG(status),
                core_dumped: libc::WCOREDUMP(status),
            })
        } else {
            None
        }
    }

    /// Decodes the `si_code`/`si_status` pair that `waitid` fills in.
    pub fn from_siginfo(code: i32, status: i32) -> Option<Self> {
        match code {
            libc::CLD_EXITED => Some(Self::Exited(status)),
            libc::CLD_KILLED => Some(Self::Signaled {
                signal: status,
                core_dumped: false,
            }),
            libc::CLD_DUMPED => Some(Self::Signaled {
                signal: status,
                core_dumped: true,
            }),
            _ => None,
        }
    }

    /// The exit code, if it exited normally.
    pub fn code(&self) -> Option<i32> {
        match *self {
            Self::Exited(code) => Some(code),
            Self::Signaled { .. } => None,
        }
    }

    /// The signal number, if a signal ended it.
    pub fn signal(&self) -> Option<i32> {
        match *self {
            Self::Exited(_) => None,
            Self::Signaled { signal, .. } => Some(signal),
        }
    }
}

/// Resources a process and its waited-for descendants used, with the same
/// meaning (and, in camelCase, the same names) as Node's
/// `process.resourceUsage()`. Times are in microseconds, `max_rss` in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceUsage {
    /// User CPU time, in microseconds.
    pub user_cpu_time: u64,
    /// System CPU time, in microseconds.
    pub system_cpu_time: u64,
    /// Peak resident set size, in KiB; `None` for a child of [`crate::spawn`]
    /// whose peak was not above the memory it started in (ours: see
    /// `inherited_rss.rs`), where the kernel's figure may be ours, not its.
    pub max_rss: Option<u64>,
    /// Integral shared memory size (always 0 on Linux).
    pub shared_memory_size: u64,
    /// Integral unshared data size (always 0 on Linux).
    pub unshared_data_size: u64,
    /// Integral unshared stack size (always 0 on Linux).
    pub unshared_stack_size: u64,
    /// Page faults served without I/O.
    pub minor_page_fault: u64,
    /// Page faults that needed I/O.
    pub major_page_fault: u64,
    /// Swaps (always 0 on Linux).
    pub swapped_out: u64,
    /// Blocks read from file systems.
    pub fs_read: u64,
    /// Blocks written to file systems.
    pub fs_write: u64,
    /// IPC messages sent (always 0 on Linux).
    pub ipc_sent: u64,
    /// IPC messages received (always 0 on Linux).
    pub ipc_received: u64,
    /// Signals received (always 0 on Linux).
    pub signals_count: u64,
    /// Voluntary context switches.
    pub voluntary_context_switches: u64,
    /// Involuntary context switches.
    pub involuntary_context_switches: u64,
}

impl From<&libc::rusage> for ResourceUsage {
    fn from(ru: &libc::rusage) -> Self {
        // The kernel never reports negative counts; clamp rather than wrap
        // should a field ever be out of range.
        let n = |v: libc::c_long| u64::try_from(v).unwrap_or(0);
        let micros = |tv: libc::timeval| n(tv.tv_sec) * 1_000_000 + n(tv.tv_usec);
        Self {
            user_cpu_time: micros(ru.ru_utime),
            system_cpu_time: micros(ru.ru_stime),
            max_rss: Some(n(ru.ru_maxrss)),
            shared_memory_size: n(ru.ru_ixrss),
            unshared_data_size: n(ru.ru_idrss),
            unshared_stack_size: n(ru.ru_isrss),
            minor_page_fault: n(ru.ru_minflt),
            major_page_fault: n(ru.ru_majflt),
            swapped_out: n(ru.ru_nswap),
            fs_read: n(ru.ru_inblock),
            fs_write: n(ru.ru_oublock),
            ipc_sent: n(ru.ru_msgsnd),
            ipc_received: n(ru.ru_msgrcv),
            signals_count: n(ru.ru_nsignals),
            voluntary_context_switches: n(ru.ru_nvcsw),
            involuntary_context_switches: n(ru.ru_nivcsw),
        }
    }
}

/// What is known about a process that has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    /// The PID it had.
    pub pid: i32,
    /// How it ended; `None` when the kernel cannot tell without reaping it
    /// (it is not our child and its parent has not reaped it yet, or the
    /// kernel is older than 6.15).
    pub status: Option<ExitStatus>,
    /// What it used; known only for our own children.
    pub rusage: Option<ResourceUsage>,
    /// The status is not known yet but will be once the parent reaps the
    /// process: it is somebody else's, has exited, and the kernel keeps the
    /// status of reaped processes (6.15+). Its pidfd polls POLLHUP at the
    /// reap; ask again then.
    pub status_at_reap: bool,
}
