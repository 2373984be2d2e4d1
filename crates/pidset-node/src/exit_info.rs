use napi_derive::napi;

/// What is known of an exited process, as the binding hands it to
/// TypeScript; `lib/exit-info.ts` turns it into the public `ExitInfo`.
#[napi(object)]
pub struct NativeExitInfo {
    /// The PID it had.
    pub pid: i32,
    /// The exit code, when it exited normally and that is known.
    pub exit_code: Option<i32>,
    /// The number of the signal that ended it, when that is known.
    pub signal: Option<i32>,
    /// What it used, when known (our own children only).
    pub rusage: Option<NativeResourceUsage>,
}

/// `pidset::ResourceUsage` with the field names of `process.resourceUsage()`.
/// Numbers are doubles, as in Node; they are exact up to 2^53.
#[napi(object)]
pub struct NativeResourceUsage {
    /// User CPU time, in microseconds.
    #[napi(js_name = "userCPUTime")]
    pub user_cpu_time: f64,
    /// System CPU time, in microseconds.
    #[napi(js_name = "systemCPUTime")]
    pub system_cpu_time: f64,
    /// Peak resident set size, in KiB.
    #[napi(js_name = "maxRSS")]
    pub max_rss: f64,
    /// Integral shared memory size (always 0 on Linux).
    pub shared_memory_size: f64,
    /// Integral unshared data size (always 0 on Linux).
    pub unshared_data_size: f64,
    /// Integral unshared stack size (always 0 on Linux).
    pub unshared_stack_size: f64,
    /// Page faults served without I/O.
    pub minor_page_fault: f64,
    /// Page faults that needed I/O.
    pub major_page_fault: f64,
    /// Swaps (always 0 on Linux).
    pub swapped_out: f64,
    /// Blocks read from file systems.
    pub fs_read: f64,
    /// Blocks written to file systems.
    pub fs_write: f64,
    /// IPC messages sent (always 0 on Linux).
    pub ipc_sent: f64,
    /// IPC messages received (always 0 on Linux).
    pub ipc_received: f64,
    /// Signals received (always 0 on Linux).
    pub signals_count: f64,
    /// Voluntary context switches.
    pub voluntary_context_switches: f64,
    /// Involuntary context switches.
    pub involuntary_context_switches: f64,
}

impl From<pidset::ExitInfo> for NativeExitInfo {
    fn from(info: pidset::ExitInfo) -> Self {
        Self {
            pid: info.pid,
            exit_code: info.status.and_then(|s| s.code()),
            signal: info.status.and_then(|s| s.signal()),
            rusage: info.rusage.map(NativeResourceUsage::from),
        }
    }
}

impl From<pidset::ResourceUsage> for NativeResourceUsage {
    fn from(ru: pidset::ResourceUsage) -> Self {
        // u64 counts become doubles, as Node's own resourceUsage() does.
        let n = |v: u64| v as f64;
        Self {
            user_cpu_time: n(ru.user_cpu_time),
            system_cpu_time: n(ru.system_cpu_time),
            max_rss: n(ru.max_rss),
            shared_memory_size: n(ru.shared_memory_size),
            unshared_data_size: n(ru.unshared_data_size),
            unshared_stack_size: n(ru.unshared_stack_size),
            minor_page_fault: n(ru.minor_page_fault),
            major_page_fault: n(ru.major_page_fault),
            swapped_out: n(ru.swapped_out),
            fs_read: n(ru.fs_read),
            fs_write: n(ru.fs_write),
            ipc_sent: n(ru.ipc_sent),
            ipc_received: n(ru.ipc_received),
            signals_count: n(ru.signals_count),
            voluntary_context_switches: n(ru.voluntary_context_switches),
            involuntary_context_switches: n(ru.involuntary_context_switches),
        }
    }
}
