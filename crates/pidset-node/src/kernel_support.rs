//! The running kernel's pidfd features, for `kernelSupport()` in lib/,
//! which declares the object's type and documents each field.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::syscall_error;

/// Probes the running kernel (it forks and reaps one short-lived child) and
/// returns `pidset::KernelSupport` as an object with camelCase fields.
#[napi(
    ts_return_type = "Record<'pidfdOpen' | 'waitidPidfd' | 'nonblock' | 'getInfo' | 'exitInfo' | 'getFd' | 'peerPidfd' | 'pidfs' | 'signalScope' | 'namespaces', boolean>"
)]
pub fn probe_kernel_support(env: &Env) -> Result<Object<'_>> {
    let k = pidset::kernel_support().map_err(|e| syscall_error(env, &e))?;
    let mut obj = Object::new(env)?;
    obj.set("pidfdOpen", k.pidfd_open)?;
    obj.set("waitidPidfd", k.waitid_pidfd)?;
    obj.set("nonblock", k.nonblock)?;
    obj.set("getInfo", k.get_info)?;
    obj.set("exitInfo", k.exit_info)?;
    obj.set("getFd", k.get_fd)?;
    obj.set("peerPidfd", k.peer_pidfd)?;
    obj.set("pidfs", k.pidfs)?;
    obj.set("signalScope", k.signal_scope)?;
    obj.set("namespaces", k.namespaces)?;
    Ok(obj)
}
