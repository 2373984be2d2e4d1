//! Test-only faults in the binding's own Node-API calls, injected as the
//! core injects system call faults (`pidset::fault`), under the same
//! `fault-injection` feature.

use napi::sys;

/// The status a test made the Node-API call `call` fail with (see
/// `injectFault`); always `None` without the `fault-injection` feature.
#[inline]
pub fn injected_napi_fault(call: &str) -> Option<sys::napi_status> {
    #[cfg(feature = "fault-injection")]
    {
        pidset::fault::take(call)
    }
    #[cfg(not(feature = "fault-injection"))]
    {
        let _ = call;
        None
    }
}
