// Type-level tests of the public API: compiled by `tsc -p __test__` in
// `npm test` and never run. Each `expectType` line fails to compile if a
// public type drifts; each `@ts-expect-error` line fails to compile if a
// mistake it guards against starts to type-check.
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import type { Readable, Writable } from 'node:stream'
import {
  AbortError,
  PidFd,
  PidSet,
  Subprocess,
  kernelSupport,
  spawn,
  peerPidFd,
  type ChildLike,
  type KillOptions,
  type NamespaceKind,
  type ProcessInfo,
  type ExitInfo,
  type KernelSupport,
  type MaxBufferError,
  type Output,
  type PidsetSystemError,
  type ResourceUsage,
  type ChildExitInfo,
  type MemberExit,
  type Signal,
  type SignalName,
  type SpawnError,
  type SpawnOptions,
  type WaitOptions,
} from '../index'

/** True when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
/** Compiles only when given `true`. */
function expectType<T extends true>(): T | void {}

async function pidFdTypes(pidfd: PidFd): Promise<void> {
  expectType<Equal<typeof PidFd.open, (pid: number) => PidFd>>()
  expectType<Equal<typeof PidFd.fromChild, (child: ChildLike) => PidFd>>()
  PidFd.fromChild({} as ChildProcess)
  expectType<Equal<ReturnType<PidFd['wait']>, Promise<ExitInfo>>>()
  expectType<Equal<Parameters<PidFd['wait']>, [options?: WaitOptions]>>()
  expectType<Equal<ReturnType<PidFd['tryWait']>, ExitInfo | null>>()
  expectType<Equal<ReturnType<PidFd['kill']>, boolean>>()
  expectType<Equal<Parameters<PidFd['kill']>, [signal?: Signal, options?: KillOptions]>>()
  expectType<Equal<ReturnType<PidFd['info']>, ProcessInfo>>()
  expectType<Equal<PidFd['id'], bigint>>()
  expectType<Equal<ReturnType<PidFd['getFd']>, number>>()
  expectType<Equal<Parameters<PidFd['namespace']>, [kind: NamespaceKind]>>()
  expectType<Equal<typeof peerPidFd, (socket: Socket) => PidFd>>()
  expectType<Equal<typeof PidFd.fromFd, (fd: number) => PidFd>>()
  expectType<Equal<ProcessInfo['cgroupId'], bigint | null>>()
  pidfd.kill('SIGTERM', { scope: 'process-group' })
  // @ts-expect-error not a scope
  pidfd.kill('SIGTERM', { scope: 'session' })
  // @ts-expect-error not a namespace kind
  pidfd.namespace('network')
  expectType<Equal<PidFd['pid'], number>>()
  expectType<Equal<PidFd['fd'], number>>()
  expectType<Equal<PidFd['closed'], boolean>>()
  expectType<Equal<ReturnType<PidFd['ref']>, PidFd>>()

  pidfd.kill('SIGKILL')
  pidfd.kill('SIGRTMIN+3')
  pidfd.kill('SIGRTMAX')
  pidfd.kill(9)
  // @ts-expect-error not a signal Node knows
  pidfd.kill('SIGFOO')
  // @ts-expect-error names are upper case
  pidfd.kill('sigterm')
  // @ts-expect-error a timeout is a number of ms
  await pidfd.wait({ timeout: '5s' })
  await pidfd.wait({ timeout: 0, signal: AbortSignal.timeout(10) })
}

function exitInfoTypes(exit: ExitInfo): void {
  expectType<Equal<ExitInfo['pid'], number>>()
  expectType<Equal<ExitInfo['exitCode'], number | null>>()
  expectType<Equal<ExitInfo['signal'], SignalName | null>>()
  expectType<Equal<ExitInfo['rusage'], Readonly<ResourceUsage> | null>>()
  // A signal it reports can be sent again as it is.
  if (exit.signal !== null && !exit.signal.startsWith('SIGRTMIN+')) process.kill(process.pid, 0)
  const name: NodeJS.Signals | `SIGRTMIN+${number}` | `SIG${number}` | null = exit.signal
  void name
  // @ts-expect-error frozen: every waiter shares it
  exit.exitCode = 1
  expectType<Equal<keyof ResourceUsage, keyof NodeJS.ResourceUsage>>()
}

async function pidSetTypes(set: PidSet): Promise<void> {
  expectType<Equal<ReturnType<PidSet['waitAny']>, Promise<ExitInfo>>>()
  expectType<Equal<ReturnType<PidSet['waitAll']>, Promise<ExitInfo[]>>>()
  expectType<Equal<ReturnType<PidSet['add']>, PidFd>>()
  expectType<Equal<ReturnType<PidSet['delete']>, boolean>>()
  expectType<Equal<PidSet['size'], number>>()
  // Spread first: TypeScript caches a type's sync iteration, and once used
  // a type that is both iterable and async-iterable is typed by it.
  expectType<Equal<ReturnType<PidSet['values']>, IterableIterator<PidFd>>>()
  for (const member of set.values()) expectType<Equal<typeof member, PidFd>>()
  // @ts-expect-error the members come from values(): a set is async-iterable only
  void [...set]
  for await (const exit of set) expectType<Equal<typeof exit, ExitInfo>>()
  expectType<Equal<typeof set extends AsyncIterable<ExitInfo> ? true : false, true>>()
  new PidSet([1, PidFd.open(1)])
  const jobs = new PidSet<{ name: string }>()
  jobs.add(1, { name: 'a' })
  const member = await jobs.waitAnyMember()
  expectType<Equal<typeof member, MemberExit<{ name: string }>>>()
  expectType<Equal<typeof member.data, { name: string } | undefined>>()
  // @ts-expect-error the data is of the set's type
  jobs.add(1, 42)
  // @ts-expect-error members are pids or PidFds
  new PidSet(['1'])
}

/** What spawn() returns for options of type `O`. */
type SpawnResult<O extends SpawnOptions> = ReturnType<typeof spawn<O>>

async function spawnTypes(): Promise<void> {
  const child = spawn('true', [], { stdio: ['pipe', 'inherit', 'ignore'], timeout: 0, killSignal: 'SIGINT' })
  expectType<Equal<typeof child, Subprocess<Writable, null, null>>>()
  expectType<Equal<typeof child.pid, number | undefined>>()
  expectType<Equal<typeof child.pidfd, PidFd | null>>()
  expectType<Equal<typeof child.stdin, Writable>>()
  expectType<Equal<typeof child.stdout, null>>()
  expectType<Equal<typeof child.exited, Promise<ChildExitInfo>>>()
  // The default is 'pipe': every stream there, no null check needed.
  const cat = spawn('cat')
  cat.stdin.end('x')
  expectType<Equal<typeof cat.stdout, Readable>>()
  // One mode for all three, and an entry left out of the array (a pipe).
  expectType<Equal<SpawnResult<{ stdio: 'ignore' }>, Subprocess<null, null, null>>>()
  expectType<Equal<SpawnResult<{ stdio: ['ignore'] }>, Subprocess<null, Readable, Readable>>>()
  expectType<Equal<SpawnResult<{ stdio: [3, 'pipe', 'inherit'] }>, Subprocess<null, Readable, null>>>()
  // Options whose stdio the type does not tell: nullable, as before.
  expectType<Equal<SpawnResult<SpawnOptions>, Subprocess<Writable | null, Readable | null, Readable | null>>>()
  // pidset's own children always have rusage; an exit from a set may not.
  const own = await spawn('true').exited
  expectType<Equal<typeof own.rusage, Readonly<ResourceUsage>>>()
  const usage = (await spawn('true').exited).rusage.userCPUTime
  expectType<Equal<typeof usage, number>>()
  expectType<Equal<Awaited<ReturnType<PidSet['waitAny']>>['rusage'], Readonly<ResourceUsage> | null>>()
  expectType<Equal<ResourceUsage['maxRSS'], number | null>>()
  spawn('sh', [], { shell: true, input: 'exit 3' })
  spawn('cat', [], { input: new Uint16Array(1) })
  // @ts-expect-error input is text, bytes or a stream
  spawn('cat', [], { input: 42 })
  const text = await child.output()
  expectType<Equal<typeof text, Output<string>>>()
  expectType<Equal<typeof text.exit, ChildExitInfo>>()
  const bytes = await child.output({ encoding: 'buffer' })
  expectType<Equal<typeof bytes, Output<Buffer>>>()
  expectType<Equal<MaxBufferError['code'], 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'>>()
  // @ts-expect-error not a stdio mode
  spawn('true', [], { stdio: 'piped' })
  // @ts-expect-error not a signal Node knows
  spawn('true', [], { killSignal: 'SIGFOO' })
  const options: SpawnOptions = { forceKillAfterDelay: false, detached: true, env: {}, cwd: '/' }
  void options
}

function errorTypes(err: unknown): void {
  if (err instanceof AbortError) expectType<Equal<typeof err.code, 'ABORT_ERR'>>()
  const system = err as PidsetSystemError
  expectType<Equal<typeof system.code, string>>()
  expectType<Equal<typeof system.errno, number>>()
  const spawnFailure = err as SpawnError
  expectType<Equal<typeof spawnFailure.spawnargs, string[]>>()
  expectType<Equal<ReturnType<typeof kernelSupport>, KernelSupport>>()
}

export const checked = [pidFdTypes, exitInfoTypes, pidSetTypes, spawnTypes, errorTypes]
