// The `pidset` command, run as a user runs it: a subprocess whose stdout,
// stderr and exit status are checked, for every command and status.
import { spawn as cpSpawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { kernelSupport, PidFd } from '../index'
import { ROOT, runCommand, setprivBlocker, survivors, TIME_SCALE, testUnless, type Ran } from './helpers'

const CLI = join(ROOT, 'lib', 'cli.js')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
/** Whether the kernel keeps a reaped process's status (6.15+): then a waiter that is not the parent still learns it. */
const STATUS_KNOWN = kernelSupport().exitInfo

/** `pidset args...`, run to its end. */
function pidset(...args: string[]): Promise<Ran> {
  return runCommand(process.execPath, [CLI, ...args], { timeoutMs: 60_000 })
}

/** `pidset args...` started, to be acted on while it runs. */
function started(args: string[]): { proc: ChildProcess; done: Promise<Ran> } {
  const proc = cpSpawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout?.on('data', (d: Buffer) => (stdout += d))
  proc.stderr?.on('data', (d: Buffer) => (stderr += d))
  const done = once(proc, 'close').then(([code, signal]) => ({ code, signal, stdout, stderr }) as Ran)
  return { proc, done }
}

/** A shell that exits with `code` once a line reaches its stdin; our child, so it stays until we reap it. */
function waiter(code: number): ChildProcess {
  return cpSpawn('sh', ['-c', `read x; exit ${code}`], { stdio: ['pipe', 'ignore', 'ignore'] })
}

/**
 * Resolves once process `pid` holds `n` pidfds (its /proc fdinfo says so):
 * the CLI prints nothing when it has opened its PIDs, and a target must
 * not exit and be reaped before that, or there is nothing left to open.
 */
async function pidfdsOpen(pid: number, n: number): Promise<void> {
  const deadline = Date.now() + 20_000 * TIME_SCALE
  for (;;) {
    let count = 0
    try {
      for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
        try {
          if (/^Pid:/m.test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))) count++
        } catch {
          // Closed meanwhile.
        }
      }
    } catch {
      throw new Error(`process ${pid} is gone`)
    }
    if (count >= n) return
    if (Date.now() > deadline) throw new Error(`process ${pid} never opened ${n} pidfds`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

test('--version, --help, no command and an unknown one', async (t) => {
  const version = await pidset('--version')
  t.is(version.code, 0)
  t.is(version.stdout.trim(), VERSION)
  const help = await pidset('--help')
  t.is(help.code, 0)
  t.regex(help.stdout, /Commands:[\s\S]*wait[\s\S]*kill[\s\S]*run[\s\S]*tree/)
  const none = await pidset()
  t.is(none.code, 2)
  const unknown = await pidset('frobnicate')
  t.is(unknown.code, 2)
  t.regex(unknown.stderr, /^pidset: unknown command 'frobnicate'.*\n$/)
  for (const command of ['wait', 'kill', 'run', 'tree']) {
    const ran = await pidset(command, '--help')
    t.is(ran.code, 0, command)
    t.regex(ran.stdout, new RegExp(`^Usage: pidset ${command} [\\s\\S]*Examples:`), command)
  }
})

test('bad usage is one line on stderr and status 2, never a stack trace', async (t) => {
  for (const args of [['wait'], ['wait', 'abc'], ['wait', '--timeout', 'soon', '1'], ['wait', '--frob', '1'], ['kill', '--signal', 'NOPE', '1'], ['kill', '--force-after', '1.5', '1'], ['run'], ['tree', '1', '2'], ['tree', '--signal', 'KILL', '1']]) {
    const ran = await pidset(...args)
    t.is(ran.code, 2, args.join(' '))
    t.regex(ran.stderr, /^pidset \w+: [^\n]+\n$/, args.join(' '))
    t.notRegex(ran.stderr, /\n\s+at /)
  }
})

test('wait: one line per exit as it happens, with the code or signal; status 0', async (t) => {
  // The two processes are children of a shell blocked in \`wait\`, which
  // reaps each the moment it exits: so the kernel (6.15+) has its status
  // for a waiter that is not its parent, as pidset wait is.
  const dir = mkdtempSync(join(tmpdir(), 'pidset-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const parent = cpSpawn('sh', ['-c', 'mkfifo a b; (read x < a; exit 3) & echo $!; (read x < b; exit 0) & echo $!; wait'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
  t.teardown(() => parent.kill('SIGKILL'))
  let text = ''
  while (text.trim().split('\n').length < 2) text += String((await once(parent.stdout!, 'data'))[0])
  const [first, second] = text.trim().split('\n').map(Number)
  const cli = started(['wait', String(first), String(second)])
  let printed = ''
  cli.proc.stdout!.on('data', (d: Buffer) => (printed += d))
  await pidfdsOpen(cli.proc.pid!, 2)
  // One after the other, the first reported before the second ends: the
  // lines come in the order the exits happen.
  writeFileSync(join(dir, 'a'), 'go\n')
  while (!printed.includes('\n')) await once(cli.proc.stdout!, 'data')
  const secondFd = PidFd.open(second)
  secondFd.kill('SIGTERM')
  secondFd.close()
  const ran = await cli.done
  t.is(ran.code, 0, ran.stderr)
  const lines = ran.stdout.trim().split('\n')
  t.is(lines.length, 2)
  t.regex(lines[0], new RegExp(`^${first} (exited with code 3|exited \\(its status is not known here\\)) after \\d+\\.\\d\\d s$`))
  t.regex(lines[1], new RegExp(`^${second} (killed by SIGTERM|exited \\(its status is not known here\\)) after`))
  if (STATUS_KNOWN) t.true(lines[0].includes('code 3') && lines[1].includes('SIGTERM'), ran.stdout)
  t.notRegex(ran.stdout, /of 2 exited/, 'no progress line when stdout is not a terminal')
})

test('wait --any --json: the first exit as a JSON line, then status 0 with the other still running', async (t) => {
  const first = waiter(5)
  const other = waiter(0)
  t.teardown(() => other.kill('SIGKILL'))
  const cli = started(['wait', '--any', '--json', String(first.pid), String(other.pid)])
  await pidfdsOpen(cli.proc.pid!, 2)
  first.stdin!.end('go\n')
  const ran = await cli.done
  t.is(ran.code, 0)
  const exit = JSON.parse(ran.stdout) as { pid: number; exitCode: number | null; signal: string | null; seconds: number }
  t.is(exit.pid, first.pid!)
  // Its parent (this process) reaps it when its loop gets to it: the status
  // is known if that is within pidset's grace (Linux 6.15+), else null.
  if (exit.exitCode !== null) t.is(exit.exitCode, 5)
  t.is(exit.signal, null)
  t.true(exit.seconds >= 0)
  t.is(other.exitCode, null)
})

test('wait: status 124 on timeout, 1 for a PID that does not exist', async (t) => {
  const alive = waiter(0)
  t.teardown(() => alive.kill('SIGKILL'))
  const timedOut = await pidset('wait', '--timeout', '0.2', String(alive.pid))
  t.is(timedOut.code, 124)
  t.regex(timedOut.stderr, /^pidset wait: timed out after 0\.2 s, 1 of 1 still running\n$/)
  const missing = await pidset('wait', String(alive.pid), String(2 ** 30))
  t.is(missing.code, 1)
  t.is(missing.stderr, `pidset wait: cannot open PID ${2 ** 30}: no such process (ESRCH)\n`)
})

testUnless(spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0 ? null : "needs util-linux's script for a pseudo-terminal")('wait at a terminal shows how many of how many have exited, and the latest', async (t) => {
  const first = waiter(0)
  const second = waiter(0)
  const tty = cpSpawn('script', ['-qec', `${process.execPath} ${CLI} wait ${first.pid} ${second.pid}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  tty.stdout!.on('data', (d: Buffer) => (out += d))
  // The progress line is drawn once the PIDs are open.
  while (!out.includes('0 of 2 exited')) await once(tty.stdout!, 'data')
  first.stdin!.end('go\n')
  while (!out.includes('1 of 2 exited, latest:')) await once(tty.stdout!, 'data')
  second.stdin!.end('go\n')
  const [code] = await once(tty, 'close')
  t.is(code, 0)
  t.regex(out, new RegExp(`1 of 2 exited, latest: ${first.pid} `))
  t.regex(out, new RegExp(`\\r\\x1b\\[K${second.pid} `), 'the progress line is cleared before each exit line')
})

test('kill: opens every PID first, then signals through the handles; --wait prints how each ended', async (t) => {
  const target = waiter(0)
  const exited = once(target, 'exit')
  const missing = await pidset('kill', String(target.pid), String(2 ** 30))
  t.is(missing.code, 1)
  t.regex(missing.stderr, /cannot open PID 1073741824: no such process/)
  t.is(target.exitCode, null, 'nothing was signalled: one PID could not be opened')
  t.is(target.signalCode, null)
  const ran = await pidset('kill', '--signal', 'INT', '--wait', String(target.pid))
  t.is(ran.code, 0, ran.stderr)
  t.deepEqual(await exited, [null, 'SIGINT'])
  t.regex(ran.stdout, new RegExp(`^${target.pid} (killed by SIGINT|exited \\(its status is not known here\\))\\n$`))
})

test('kill --force-after: a process that ignores the signal gets SIGKILL after the delay', async (t) => {
  const stubborn = cpSpawn('sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 1; done"], { stdio: ['ignore', 'pipe', 'ignore'] })
  await once(stubborn.stdout!, 'data')
  const exited = once(stubborn, 'exit')
  const ran = await pidset('kill', '--force-after', '200', String(stubborn.pid))
  t.is(ran.code, 0, ran.stderr)
  t.deepEqual(await exited, [null, 'SIGKILL'])
})

test("run: the command's status (128 + N for a signal), 127 when not found, a resource summary on stderr", async (t) => {
  const three = await pidset('run', '--', 'sh', '-c', 'echo out; exit 3')
  t.is(three.code, 3)
  t.is(three.stdout, 'out\n', 'the command writes to our stdout')
  t.regex(three.stderr, /^pidset run: sh exited with code 3 in \d+\.\d\d s: user \d+\.\d\d s, system \d+\.\d\d s, max RSS [^\n]+\n$/)
  const term = await pidset('run', '--json', '--', 'sh', '-c', 'kill -TERM $$')
  t.is(term.code, 128 + 15)
  const summary = JSON.parse(term.stderr) as Record<string, unknown>
  t.like(summary, { command: 'sh', exitCode: null, signal: 'SIGTERM', coreDumped: false, timedOut: false })
  t.is(typeof summary.userCPUSeconds, 'number')
  const missing = await pidset('run', '--', 'no-such-command-here')
  t.is(missing.code, 127)
  t.regex(missing.stderr, /^pidset run: cannot run no-such-command-here: .*ENOENT\n$/)
})

test('run passes SIGTERM on to the command, as a shell does', async (t) => {
  const cli = started(['run', '--', 'sh', '-c', "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 1; done"])
  while (!(await once(cli.proc.stdout!, 'data')).toString().includes('ready'));
  cli.proc.kill('SIGTERM')
  const ran = await cli.done
  t.is(ran.code, 7)
  t.regex(ran.stdout, /got TERM/)
})

testUnless(spawnSync(process.execPath, [CLI, 'run', '--contain', '--', 'true']).status === 0 ? null : 'no cgroup of our own can be made here')('run --timeout --contain takes the whole tree, double forks and setsid included: status 124', async (t) => {
  const marker = `cli-contain-${process.pid}`
  // The marker goes to the command's tree only (not to pidset itself, nor its sentinel).
  const cli = started(['run', '--timeout', String(2 * TIME_SCALE), '--contain', '--', 'env', `PIDSET_TREE_TEST=${marker}`, 'sh', '-c', "setsid sh -c 'sleep 100 &'; sh -c 'sleep 100 &'; echo ready; exec sleep 100"])
  while (!(await once(cli.proc.stdout!, 'data')).toString().includes('ready'));
  t.is(survivors(marker).length, 3)
  const handles = survivors(marker).map((pid) => PidFd.open(pid))
  const ran = await cli.done
  t.is(ran.code, 124)
  t.regex(ran.stderr, /\(timed out\)/)
  for (const handle of handles) {
    await handle.wait({ timeout: 10_000 })
    handle.close()
  }
  t.deepEqual(survivors(marker), [])
})

test('tree: the processes under a PID, indented under their parents; --kill ends them all', async (t) => {
  const root = cpSpawn('sh', ['-c', 'sh -c "sleep 100 & echo ready; wait" & wait'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await once(root.stdout!, 'data')
  const exited = once(root, 'exit')
  const shown = await pidset('tree', String(root.pid))
  t.is(shown.code, 0, shown.stderr)
  const lines = shown.stdout.trimEnd().split('\n')
  t.is(lines.length, 3, shown.stdout)
  t.regex(lines[0], new RegExp(`^${root.pid} sh -c `))
  t.regex(lines[1], /^ {2}\d+ sh -c sleep 100 & echo ready; wait$/)
  t.regex(lines[2], /^ {4}\d+ sleep 100$/)
  const killed = await pidset('tree', '--kill', '--signal', 'KILL', String(root.pid))
  t.is(killed.code, 0, killed.stderr)
  t.is(killed.stdout.trim().split('\n').length, 3)
  t.deepEqual(await exited, [null, 'SIGKILL'])
  const gone = await pidset('tree', String(root.pid))
  t.is(gone.code, 1)
})

test('run: status 126 for a file that cannot be executed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-cli-'))
  const file = join(dir, 'not-executable')
  writeFileSync(file, 'echo never\n', { mode: 0o644 })
  const ran = await pidset('run', '--', file)
  rmSync(dir, { recursive: true })
  t.is(ran.code, 126)
  t.regex(ran.stderr, /^pidset run: cannot run .*EACCES\n$/)
  t.is(ran.stdout, '')
})

testUnless(setprivBlocker())('kill: status 1 naming the PID when a process may not be signalled', async (t) => {
  const target = waiter(0)
  t.teardown(() => target.kill('SIGKILL'))
  const ran = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'kill', String(target.pid)])
  t.is(ran.code, 1)
  t.regex(ran.stderr, new RegExp(`^pidset kill: cannot signal PID ${target.pid}: .*EPERM`))
  t.is(target.exitCode, null)
  t.is(target.signalCode, null)
})

test('a reader that stops early ends the output quietly: no EPIPE trace', async (t) => {
  // A command line of 200 KB: more than a pipe holds, so the write is
  // still going when the reader goes away.
  const long = cpSpawn('sh', ['-c', 'sleep 100; :', 'x'.repeat(100_000), 'y'.repeat(100_000)], { stdio: 'ignore' })
  t.teardown(() => long.kill('SIGKILL'))
  const proc = cpSpawn(process.execPath, [CLI, 'tree', String(long.pid)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => (stderr += d))
  // Read one chunk, then close our end, as `| head -1` does.
  await once(proc.stdout!, 'data')
  proc.stdout!.destroy()
  const [code] = await once(proc, 'close')
  t.is(stderr, '')
  t.is(code, 0)
})
