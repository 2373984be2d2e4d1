/**
 * pidset: race-free process handles for Node.js on Linux.
 *
 * `PidFd` holds one process by a pidfd: wait for it to exit without polling,
 * signal it without ever reaching a process that reused its PID. `PidSet`
 * watches many at once. Both work for any process you may see, not only
 * children, and never reap a child that `child_process` spawned.
 *
 * @packageDocumentation
 */
export { PidFd } from './lib/pid-fd'
export { PidSet } from './lib/pid-set'
export type { ExitInfo, ResourceUsage } from './lib/exit-info'
export { kernelSupport, type KernelSupport } from './lib/kernel'
export type { WaitOptions } from './lib/validate'
export { AbortError, type PidsetSystemError } from './lib/errors'
