// What the running kernel offers pidset, and so what a wait can report.
import { probeKernelSupport, type KernelSupport as NativeKernelSupport } from './binding'
import { fromNative } from './errors'

/**
 * The pidfd features of the running kernel (fields in binding.d.ts, from
 * the Rust that probes them). What they mean for users is in README's
 * kernel table.
 */
export type KernelSupport = Readonly<NativeKernelSupport>

let probed: KernelSupport | undefined

/**
 * What the running kernel supports. The first call probes (it opens a pidfd
 * and starts and reaps one short-lived child); later calls return the same
 * frozen object.
 * @throws {Error} code `'EMFILE'`, `'EAGAIN'`... if the probe cannot run.
 */
export function kernelSupport(): KernelSupport {
  if (probed) return probed
  try {
    probed = Object.freeze({ ...probeKernelSupport() })
  } catch (err) {
    throw fromNative(err)
  }
  return probed
}
