// Loads the native addon for this platform through the loader napi-rs
// generates (binding.js), or fails with one error that says what is supported.
import type * as Native from '../binding'
import { loadError } from './errors'

/** The platforms with a prebuilt package: `pidset-<platform>`. */
export const SUPPORTED_PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl'] as const

function thisPlatform(): string {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  const libc = report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'
  return `linux-${process.arch}-${libc}`
}

function load(): typeof Native {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../binding') as typeof Native
  } catch (cause) {
    const platform = thisPlatform()
    const supported = (SUPPORTED_PLATFORMS as readonly string[]).includes(platform)
    const message = supported
      ? `pidset could not load its native binary for ${platform}: neither the package pidset-${platform} nor a local build (pidset.${platform}.node beside binding.js) is installed. ` +
        `npm installs pidset-${platform} with pidset from the registry unless optional dependencies are omitted; ` +
        `a packed local build needs its tarball installed too (README, Install)`
      : `pidset does not support ${platform}: it runs on Linux with glibc or musl, on x64 and arm64 (${SUPPORTED_PLATFORMS.join(', ')})`
    throw loadError(message, cause, supported)
  }
}

const native = load()
export const NativePidFd = native.NativePidFd
export const NativeChild = native.NativeChild
export const NativeCgroup = native.NativeCgroup
export type NativeCgroup = Native.NativeCgroup
export type NativeChild = Native.NativeChild
export type NativePidFd = Native.NativePidFd
export const Poller = native.Poller
export type Poller = Native.Poller
export const EXIT_RECORD_LEN = native.EXIT_RECORD_LEN
export const ExitState = native.ExitState
export const ExitRecordSlot = native.ExitRecordSlot
export const RusageSlot = native.RusageSlot
export type RusageSlot = Native.RusageSlot
export type ExitState = Native.ExitState
export const probeKernelSupport = native.probeKernelSupport
export type KernelSupport = Native.KernelSupport
export type ProcessInfo = Native.ProcessInfo
// The string enums the binding declares: the values lib/ validates against.
export const NamespaceKind = native.NamespaceKind
export type NamespaceKind = Native.NamespaceKind
export const SignalScope = native.SignalScope
export type SignalScope = Native.SignalScope
export const StdioKind = native.StdioKind
export type StdioKind = Native.StdioKind
export const spawnChild = native.spawnChild
