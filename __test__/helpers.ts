// Real processes for the tests, and ways to watch them without sleeping.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { dirname, join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { kernelSupport, spawn as pidsetSpawn } from '../index'

/**
 * Refuses to run compiled tests or library older than their TypeScript:
 * `npx ava __test__/x.spec.js` after an edit would otherwise run the old
 * code and report on it. `npm run test:file -- __test__/x.spec.ts` and
 * `npm test` compile first.
 */
function assertCompiledIsCurrent(): void {
  const root = join(__dirname, '..')
  const sources = [
    ...readdirSync(__dirname).filter((f) => f.endsWith('.ts')).map((f) => join(__dirname, f)),
    ...readdirSync(join(root, 'lib')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(root, 'lib', f)),
    join(root, 'index.ts'),
  ]
  for (const source of sources) {
    const compiled = source.replace(/\.ts$/, '.js')
    if (existsSync(compiled) && statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
      throw new Error(`${compiled} is older than ${source}: run \`npm run test:file -- __test__/NAME.spec.ts\` (or \`npm test\`), which compile first`)
    }
  }
}
assertCompiledIsCurrent()

/** A child and the code/signal its own 'exit' event reports. */
export interface Child {
  proc: ChildProcess
  pid: number
  exited: Promise<[number | null, NodeJS.Signals | null]>
}

/**
 * Starts `command args...`; the test kills it at teardown if still alive.
 * Its stderr is copied to ours rather than inherited: a process it leaves
 * behind must not hold the test runner's own output open, which kept a
 * failed run from ever ending.
 */
export function start(t: ExecutionContext, command: string, ...args: string[]): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  if (proc.pid === undefined) throw new Error(`could not spawn ${command}`)
  proc.stderr?.on('data', (data: Buffer) => process.stderr.write(data))
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  return { proc, pid: proc.pid, exited }
}

/** `sh -c script`. */
export function sh(t: ExecutionContext, script: string): Child {
  return start(t, 'sh', '-c', script)
}

/** A process that runs until killed. */
export function sleeper(t: ExecutionContext): Child {
  return start(t, 'sleep', '1000')
}

/**
 * Every descendant of this process, killed: what a failed test left
 * behind (a grandchild, a child that ignores SIGTERM), which would keep this
 * test file's process, and so the run, from ending. Each process is stopped
 * before its children are listed, so that none can reap one and free its
 * PID before it is signalled. Returns how many there were.
 */
export function killLeftovers(): number {
  const found: number[] = []
  const visit = (pid: number): void => {
    let tasks: string[]
    try {
      tasks = readdirSync(`/proc/${pid}/task`)
    } catch {
      return
    }
    for (const task of tasks) {
      let children: number[]
      try {
        children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number)
      } catch {
        continue
      }
      for (const child of children) {
        if (found.includes(child)) continue
        try {
          process.kill(child, 'SIGSTOP')
        } catch {
          continue
        }
        found.push(child)
        visit(child)
      }
    }
  }
  visit(process.pid)
  for (const pid of found) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }
  return found.length
}

// After every test file that uses these helpers (all of them), pass or fail:
// nothing it started may outlive it.
test.after.always('no process left behind', () => {
  const left = killLeftovers()
  if (left > 0) console.log(`killed ${left} process(es) the tests left behind`)
})

// A test that hangs makes ava stop this file's process at its timeout, with
// SIGTERM, and no hook runs then: what the tests started (with their output
// perhaps inherited from ava's) would keep the whole run from ending.
process.once('SIGTERM', () => {
  const left = killLeftovers()
  console.error(`stopped by the test runner (a timeout): killed ${left} process(es) the tests started`)
  process.exit(1)
})

/** The lines a child writes to stdout, one at a time. */
export function lines(child: Child): AsyncIterator<string> {
  if (!child.proc.stdout) throw new Error('no stdout')
  return createInterface({ input: child.proc.stdout })[Symbol.asyncIterator]()
}

/** The next line from `reader`. */
export async function nextLine(reader: AsyncIterator<string>): Promise<string> {
  const { value, done } = await reader.next()
  if (done) throw new Error('the child closed its output')
  return value
}

/** A PID no process can have: above the kernel's limit (pid_max <= 2^22). */
export const NO_SUCH_PID = 2 ** 30

/** How many descriptors this process has open. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

/**
 * Opens what is opened once for good, before a test takes a descriptor
 * baseline: libuv keeps /dev/null open (read-only, a spare descriptor for
 * EMFILE) from the first stream it sets up, such as a child's output, and
 * pidset opens its one epoll instance the first time it waits.
 */
export async function openedOnceForGood(): Promise<void> {
  const warm = pidsetSpawn('sleep', ['1000'])
  warm.kill('SIGKILL')
  await warm.output()
  warm.pidfd?.close()
  // Code awaiting an exit runs inside the native dispatch that reported it,
  // which lets go of its share of the descriptor when it returns.
  await new Promise(setImmediate)
}

/** Whether the running kernel is at least major.minor. */
export function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = readFileSync('/proc/sys/kernel/osrelease', 'utf8').split(/[.-]/).map(Number)
  return a > major || (a === major && b >= minor)
}

/** The repository root, where the package is. */
export const ROOT = join(__dirname, '..')

/** How a command ended, and what it wrote. */
export interface Ran {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
}

/**
 * How much slower than a real machine this one runs: the kernel matrix sets
 * PIDSET_TEST_TIME_SCALE in its emulated guests, where a Node start-up takes
 * seconds. Scales the time limits of subprocesses, never what a test asserts.
 */
export const TIME_SCALE = Math.max(1, Number(process.env.PIDSET_TEST_TIME_SCALE) || 1)

/** Runs `command args...` (with `env` added to ours) and returns how it ended; killed after `timeoutMs` × {@link TIME_SCALE}. */
export async function runCommand(
  command: string,
  args: string[],
  { cwd = ROOT, env = {}, timeoutMs = 20_000 }: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  const proc = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs * TIME_SCALE,
    killSignal: 'SIGKILL',
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (d: Buffer) => (stdout += d))
  proc.stderr.on('data', (d: Buffer) => (stderr += d))
  const [code, signal] = (await once(proc, 'close')) as [number | null, string | null]
  return { code, signal, stdout, stderr }
}

/** Runs `node` with `args` (and `env` added to ours) in the repository and returns how it ended. */
export function runNode(args: string[], timeoutMs = 20_000, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return runCommand(process.execPath, args, { env, timeoutMs })
}

/** Whether a process with this PID exists (any state but reaped). */
export function exists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Whether `pid` has exited but not been reaped (state Z in /proc). */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}

/**
 * Why a test cannot run Node as another user (uid 65534) here, or null: it
 * needs root, and a node that uid 65534 may reach and execute (the kernel
 * matrix guests' is not).
 */
export function otherUserBlocker(): string | null {
  if (process.getuid?.() !== 0) return 'running as another user needs root'
  // Every directory on the way must be searchable by others, and node executable by them.
  for (let path = process.execPath; ; path = dirname(path)) {
    if ((statSync(path).mode & 0o001) === 0) return `${path} is not searchable or executable by other users here`
    if (path === '/') return null
  }
}

/**
 * `test` when `reason` is null, else `test.skip` with the reason printed:
 * a test whose needs this machine lacks shows as skipped, not as passed.
 */
export function testUnless(reason: string | null): typeof test {
  if (reason === null) return test
  console.log(`skipped: ${reason}`)
  return test.skip as unknown as typeof test
}

/**
 * A C fixture (__test__/fixtures/NAME.c) built as a `program` or a shared
 * `library` under target/fixtures, or null if it is not built and there is
 * no C compiler (cc). Built once: guests of the kernel matrix, which share
 * the repository but have no compiler, use what the host built.
 */
export function builtFixture(name: string, kind: 'program' | 'library'): string | null {
  const source = join(__dirname, 'fixtures', `${name}.c`)
  const out = join(ROOT, 'target', 'fixtures', kind === 'library' ? `${name}.so` : name)
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return out
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0) return null
  mkdirSync(dirname(out), { recursive: true })
  const flags = kind === 'library' ? ['-shared', '-fPIC'] : []
  const cc = spawnSync('cc', [...flags, '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, source, '-ldl'], { encoding: 'utf8' })
  if (cc.status !== 0) throw new Error(`cc ${name}.c failed: ${cc.stderr}`)
  return out
}

/**
 * Asserts a status (exit code or signal) that pidset reports for a
 * `child_process` child. Without PIDFD_INFO_EXIT (before Linux 6.15) it is
 * null when libuv's SIGCHLD handler reaped the child before pidset read it,
 * as README says; with it, it is always known.
 */
export function assertChildStatus<T>(t: ExecutionContext, actual: T | null, expected: T | null, what = 'status'): void {
  if (expected === null || kernelSupport().exitInfo) {
    t.is(actual, expected, what)
  } else if (actual === null) {
    t.log(`${what}: null, as documented without PIDFD_INFO_EXIT (libuv reaped the child first)`)
  } else {
    t.is(actual, expected, what)
  }
}

/** Whether the suite runs through the portable front-end (PIDSET_FRONTEND=portable; see poller.rs). */
export const PORTABLE_FRONT_END = process.env.PIDSET_FRONTEND === 'portable'

/**
 * Asserts the exit pidset reported for a `child_process` child on a kernel
 * imitated without PIDFD_INFO_EXIT, where it must read the status before
 * libuv reaps the child. Through libuv it always does: the kernel makes the
 * pidfd readable before it sends SIGCHLD, and both reach one `epoll_wait`,
 * pidset's first. Through the portable front-end, its thread races libuv's
 * SIGCHLD handler and usually wins; when it loses, the exit comes without
 * status or rusage, as README documents (`lost`).
 */
export function assertForeignExit<T>(t: ExecutionContext, actual: T, expected: T, lost: T): void {
  if (PORTABLE_FRONT_END && JSON.stringify(actual) === JSON.stringify(lost)) {
    t.log('no status: libuv reaped the child before the portable front-end read it, as documented')
    return
  }
  t.deepEqual(actual, expected)
}

/**
 * Asserts a subprocess's output lines, where `<S>` in an expected line
 * stands for a status S (exit code or signal) of a `child_process` child:
 * exactly S with PIDFD_INFO_EXIT, else S or null (see assertChildStatus).
 */
export function assertLinesWithChildStatuses(t: ExecutionContext, actual: string[], expected: string[]): void {
  const exact = kernelSupport().exitInfo
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  t.is(actual.length, expected.length, `lines: ${JSON.stringify(actual)}`)
  expected.forEach((line, i) => {
    const pattern = line
      .split(/<([^>]*)>/)
      .map((part, j) => (j % 2 === 0 || exact ? escape(part) : `(?:${escape(part)}|null)`))
      .join('')
    t.regex(actual[i] ?? '', new RegExp(`^${pattern}$`))
  })
}

/**
 * The first line of a `node -e` script that `runNode` runs from the
 * project's root: pidset's PidFd and PidSet, and child_process's spawn.
 */
export const LOAD_PIDSET = "const { PidFd, PidSet } = require('./index.js'); const { spawn } = require('node:child_process');"

/**
 * The live processes whose environment has `PIDSET_TREE_TEST=marker`: what
 * is left of a tree started with that marker (zombies have no environment).
 */
export function survivors(marker: string): number[] {
  const needle = `PIDSET_TREE_TEST=${marker}\0`
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(needle)
      } catch {
        return false
      }
    })
    .map(Number)
}

/** Why Node cannot be run as uid 65534 with util-linux's setpriv here (busybox's lacks --reuid), or null. */
export function setprivBlocker(): string | null {
  const blocker = otherUserBlocker()
  if (blocker !== null) return blocker
  return spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0 ? null : 'needs setpriv (util-linux) to run as another user'
}

/** Short options: util-linux's unshare and busybox's (in the kernel guests) both take them. */
export const UNSHARE = ['-p', '-f', '--mount-proc']

/** Why a PID namespace whose PIDs can be chosen (ns_last_pid) cannot be made here, or null. */
export function namespaceBlocker(): string | null {
  const probe = spawnSync('unshare', [...UNSHARE, 'sh', '-c', 'echo $$ > /proc/sys/kernel/ns_last_pid && echo $$'], { encoding: 'utf8' })
  if (probe.error) return `no unshare command (${probe.error.message})`
  if (probe.status !== 0 || probe.stdout.trim() !== '1') {
    return `unshare ${UNSHARE.join(' ')} or writing ns_last_pid failed (needs root or CAP_SYS_ADMIN): ${probe.stderr.trim()}`
  }
  return null
}
