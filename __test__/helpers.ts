// Real processes for the tests, and ways to watch them without sleeping.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'

/** A child and the code/signal its own 'exit' event reports. */
export interface Child {
  proc: ChildProcess
  pid: number
  exited: Promise<[number | null, NodeJS.Signals | null]>
}

/** Starts `command args...`; the test kills it at teardown if still alive. */
export function start(t: ExecutionContext, command: string, ...args: string[]): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  if (proc.pid === undefined) throw new Error(`could not spawn ${command}`)
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

/** Whether the running kernel is at least major.minor. */
export function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = readFileSync('/proc/sys/kernel/osrelease', 'utf8').split(/[.-]/).map(Number)
  return a > major || (a === major && b >= minor)
}

/** The repository root, where the package is. */
export const ROOT = join(__dirname, '..')

/** Runs `node` with `args` (and `env` added to ours) in the repository and returns how it ended. */
export async function runNode(
  args: string[],
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (d: Buffer) => (stdout += d))
  proc.stderr.on('data', (d: Buffer) => (stderr += d))
  const [code, signal] = (await once(proc, 'close')) as [number | null, string | null]
  return { code, signal, stdout, stderr }
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
 * `test` when `reason` is null, else `test.skip` with the reason printed:
 * a test whose needs this machine lacks shows as skipped, not as passed.
 */
export function testUnless(reason: string | null): typeof test {
  if (reason === null) return test
  console.log(`skipped: ${reason}`)
  return test.skip as unknown as typeof test
}

/** Why a C compiler (cc) cannot be used, or null if it can. */
export function noCompiler(): string | null {
  return spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0 ? null : 'needs a C compiler (cc)'
}

/** Compiles `source` (a C file under __test__/fixtures) to a shared object in `dir`; returns its path. */
export function compileShim(source: string, dir: string): string {
  const out = join(dir, source.replace(/\.c$/, '.so'))
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', out, join(__dirname, 'fixtures', source), '-ldl'], { encoding: 'utf8' })
  if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`)
  return out
}
