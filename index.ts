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
export { PidSet, type MemberExit } from './lib/pid-set'
export { peerPidFd } from './lib/peer'
export { descendants, killTree, type KillTreeOptions } from './lib/tree'
export type { KillOptions, NamespaceKind, ProcessInfo, SignalScope } from './lib/introspection'
export { spawn, Subprocess } from './lib/subprocess'
export type { MaxBufferError, Output, OutputOptions } from './lib/output'
export type { SpawnOptions, StdioOption } from './lib/spawn-options'
export type { ChildLike } from './lib/from-child'
export type { ChildExitInfo, ExitInfo, ResourceUsage } from './lib/exit-info'
export type { Signal, SignalName, RealtimeSignal } from './lib/signals'
export { kernelSupport, type KernelSupport } from './lib/kernel'
export type { WaitOptions } from './lib/validators'
export { AbortError, type PidsetSystemError, type SpawnError } from './lib/errors'
