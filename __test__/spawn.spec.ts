// spawn(), Subprocess and PidFd.fromChild(), against real processes.
import { spawn as cpSpawn } from 'node:child_process'
import { getEventListeners, once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import test from 'ava'
import { PidFd, PidSet, spawn, type ExitInfo } from '../index'
import { exists, isZombie, openedOnceForGood, openFds, otherUserBlocker, runNode, testUnless, TIME_SCALE } from './helpers'

test('exit codes and signals, each with resource usage', async (t) => {
  for (const code of [0, 1, 7, 255]) {
    const exit = await spawn('sh', ['-c', `exit ${code}`]).exited
    t.is(exit.exitCode, code)
    t.is(exit.signal, null)
    t.truthy(exit.rusage, `rusage for exit ${code}`)
  }
  for (const [script, signal] of [
    ['kill -KILL $$', 'SIGKILL'],
    ['kill -TERM $$', 'SIGTERM'],
    ['kill -SEGV $$', 'SIGSEGV'],
  ] as const) {
    const exit = await spawn('sh', ['-c', script]).exited
    t.is(exit.signal, signal, script)
    t.is(exit.exitCode, null)
    t.truthy(exit.rusage)
  }
})

test('the child is reaped once its exit is known, and kill() is then false', async (t) => {
  const child = spawn('sh', ['-c', 'exit 4'], { stdio: 'ignore' })
  const pid = child.pid as number
  const exit = await child.exited
  t.is(exit.pid, pid)
  t.false(isZombie(pid), 'no zombie left')
  t.false(child.kill('SIGKILL'))
  t.false(child.pidfd?.kill('SIGKILL'))
  t.is(child.pidfd?.tryWait(), exit, 'its PidFd has the same exit')
  t.false(child.pidfd?.isRunning())
  child.pidfd?.close()
})

test('resource usage is that of the child, each field in its place', async (t) => {
  // About 300 ms of user CPU, measured by the child itself, and 100 MiB
  // touched above this process's own peak, so that its peak is its own.
  const ownPeak = process.resourceUsage().maxRSS
  const bytes = ownPeak * 1024 + 100 * 2 ** 20
  const script = `const b = Buffer.allocUnsafe(${bytes}).fill(1);
    const end = process.cpuUsage().user + 300_000; while (process.cpuUsage().user < end);`
  const { exit } = await spawn(process.execPath, ['-e', script]).output()
  const rusage = exit.rusage
  if (!rusage) return t.fail('no rusage')
  t.true(rusage.userCPUTime >= 300_000 && rusage.userCPUTime < 5_000_000, `user ${rusage.userCPUTime} µs`)
  // Faulting in the memory costs the kernel's time.
  t.true(rusage.systemCPUTime > 0, `system ${rusage.systemCPUTime} µs`)
  const peak = rusage.maxRSS ?? 0
  t.true(peak >= bytes / 1024 && peak < bytes / 1024 + 500_000, `maxRSS ${rusage.maxRSS} KiB for ${bytes / 1024} KiB touched`)
  t.true(rusage.minorPageFault > 0, `minorPageFault ${rusage.minorPageFault}`)
  t.true(rusage.voluntaryContextSwitches + rusage.involuntaryContextSwitches > 0, 'context switches')
  // What Linux never counts is 0: a field shifted by one slot would not be.
  for (const field of ['sharedMemorySize', 'unsharedDataSize', 'unsharedStackSize', 'swappedOut', 'ipcSent', 'ipcReceived', 'signalsCount'] as const) {
    t.is(rusage[field], 0, field)
  }
})

test("a child's maxRSS is never this process's peak, which a child started in its memory inherits", async (t) => {
  const run = await runNode([
    '-e',
    `const { spawn } = require('./index.js');
    const ballast = Buffer.allocUnsafe(300 * 2 ** 20).fill(1);
    (async () => {
      const { rusage } = await spawn('true').exited;
      console.log(JSON.stringify({ child: rusage.maxRSS, parent: process.resourceUsage().maxRSS, kept: ballast.length }));
    })()`,
  ])
  t.is(run.code, 0, run.stderr)
  const { child, parent } = JSON.parse(run.stdout) as { child: number | null; parent: number }
  t.true(parent > 300_000, `the parent's peak: ${parent} KiB`)
  t.is(child, null, `true's peak, at or below the memory it started in, is not known (reported ${child} KiB)`)
})

test('stdin and stdout piped: a round trip through cat, and 10 MiB without loss', async (t) => {
  const cat = spawn('cat')
  cat.stdin?.end('hello\nworld\n')
  t.deepEqual(await cat.output(), { stdout: 'hello\nworld\n', stderr: '', exit: await cat.exited })

  const big = spawn('head', ['-c', String(10 * 1024 * 1024), '/dev/zero'])
  const { stdout, exit } = await big.output({ encoding: 'buffer' })
  t.is(stdout.length, 10 * 1024 * 1024)
  t.true(stdout.every((b) => b === 0))
  t.is(exit.exitCode, 0)
})

test('output() stops a child that writes past maxBuffer, and rejects with what it kept', async (t) => {
  // `yes` never stops by itself: only the kill ends it.
  const endless = spawn('yes')
  const err = await t.throwsAsync(endless.output({ maxBuffer: 100_000 }), {
    instanceOf: RangeError,
    code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER',
    message: 'stdout maxBuffer length exceeded',
  })
  const { stdout, stderr, exit } = err as unknown as { stdout: string; stderr: string; exit: ExitInfo }
  t.is(stdout.length, 100_000)
  t.is(stdout, 'y\n'.repeat(50_000))
  t.is(stderr, '')
  // SIGTERM, or SIGPIPE if its next write met the closed socket first.
  t.true(exit.signal === 'SIGTERM' || exit.signal === 'SIGPIPE', String(exit.signal))
  // Exactly at the limit is within it; Buffers are kept as Buffers.
  const exact = await spawn('head', ['-c', '1000', '/dev/zero']).output({ maxBuffer: 1000, encoding: 'buffer' })
  t.is(exact.stdout.length, 1000)
  t.is(exact.exit.exitCode, 0)
  // stderr is limited too.
  const noisy = spawn('sh', ['-c', 'yes >&2'])
  await t.throwsAsync(noisy.output({ maxBuffer: 10 }), { message: 'stderr maxBuffer length exceeded' })
  // Bad options throw at once.
  const child = spawn('true')
  t.throws(() => child.output({ maxBuffer: -1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => child.output({ maxBuffer: NaN }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => child.output({ maxBuffer: '1' as unknown as number }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => child.output({ encoding: 'utf9' as BufferEncoding }), { instanceOf: TypeError, code: 'ERR_UNKNOWN_ENCODING' })
  t.throws(() => child.output(null as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' })
  t.is((await child.output({ maxBuffer: Infinity })).exit.exitCode, 0)
})

test.serial('a finished child leaves no descriptor behind (its stdin is closed at its exit, as ChildProcess does)', async (t) => {
  await openedOnceForGood()
  const before = openFds()
  for (let i = 0; i < 20; i++) {
    const child = spawn('true')
    await child.output()
    t.true(child.stdin?.destroyed)
    child.pidfd?.close()
  }
  // Code awaiting an exit runs inside the native dispatch that reported it,
  // which lets go of its share of the descriptor when it returns.
  await new Promise(setImmediate)
  t.is(openFds(), before)
})

test("stdio 'ignore' and 'inherit' give no streams; a descriptor is used as given", async (t) => {
  const ignored = spawn('sh', ['-c', 'echo lost; echo lost >&2'], { stdio: 'ignore' })
  t.is(ignored.stdin, null)
  t.is(ignored.stdout, null)
  t.is(ignored.stderr, null)
  t.deepEqual((await ignored.output()).stdout, '')
  // Inherit, seen from a parent Node process that collects what we print.
  const ran = await runNode(['-e', "require('./index.js').spawn('sh', ['-c', 'echo inherited'], { stdio: 'inherit' }).exited.then((e) => process.exit(e.exitCode))"])
  t.is(ran.code, 0)
  t.is(ran.stdout, 'inherited\n')
  // A descriptor: the write end of another child's stdin.
  const cat = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] })
  const stdinFd = (cat.stdin as unknown as { _handle: { fd: number } })._handle.fd
  const writer = spawn('sh', ['-c', 'echo via-fd'], { stdio: ['ignore', stdinFd, 'ignore'] })
  await writer.exited
  cat.stdin?.end()
  t.is((await cat.output()).stdout, 'via-fd\n')
})

test('cwd, env and argv0', async (t) => {
  // Node itself reports them: a shell may be a multi-call binary (busybox)
  // that picks what to be from argv[0].
  const script = 'console.log(JSON.stringify([process.cwd(), process.env.ONLY, process.env.DROPPED ?? "unset", process.argv0]))'
  const { stdout } = await spawn(process.execPath, ['-e', script], {
    cwd: __dirname,
    env: { ONLY: 'this', DROPPED: undefined },
    argv0: 'renamed',
  }).output()
  t.deepEqual(JSON.parse(stdout), [__dirname, 'this', 'unset', 'renamed'])
  const url = await spawn(process.execPath, ['-e', 'console.log(process.cwd())'], { cwd: pathToFileURL(__dirname) }).output()
  t.is(url.stdout, `${__dirname}\n`)
})

testUnless(otherUserBlocker())('uid and gid', async (t) => {
  const script = 'console.log(process.getuid(), process.getgid())'
  const { stdout } = await spawn(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: '/' }).output()
  t.is(stdout, '65534 65534\n')
})

test('detached: the child leads a new session', async (t) => {
  const child = spawn('sh', ['-c', 'cut -d" " -f6 /proc/$$/stat'], { detached: true })
  const { stdout } = await child.output()
  t.is(Number(stdout), child.pid as number)
  const attached = await spawn('sh', ['-c', 'cut -d" " -f6 /proc/$$/stat']).output()
  t.not(Number(attached.stdout), Number(stdout))
})

test('timeout sends killSignal, then SIGKILL after forceKillAfterDelay', async (t) => {
  // The child ignores SIGTERM and says so before the timeout can fire.
  const stubborn = spawn('sh', ['-c', "trap '' TERM; echo ready; exec sleep 1000"], { timeout: 200, forceKillAfterDelay: 100 })
  const exit = await stubborn.exited
  t.is(exit.signal, 'SIGKILL')
  t.true(stubborn.timedOut)
  const polite = spawn('sleep', ['1000'], { timeout: 50, killSignal: 'SIGINT' })
  t.is((await polite.exited).signal, 'SIGINT')
  t.true(polite.timedOut)
  const quick = spawn('true', [], { timeout: 10_000 })
  t.is((await quick.exited).exitCode, 0)
  t.false(quick.timedOut)
})

test('an AbortSignal kills the child; an aborted one starts nothing', async (t) => {
  const controller = new AbortController()
  const child = spawn('sleep', ['1000'], { signal: controller.signal })
  controller.abort()
  t.is((await child.exited).signal, 'SIGTERM')
  const never = spawn('sleep', ['1000'], { signal: AbortSignal.abort() })
  t.is(never.pid, undefined)
  await t.throwsAsync(never.exited, { name: 'AbortError', code: 'ABORT_ERR' })
})

test('failures to start are reported as child_process reports them', async (t) => {
  for (const [file, code] of [
    ['/no/such/program', 'ENOENT'],
    ['no-such-program-on-path', 'ENOENT'],
    // This very file: not executable, and not a directory.
    [__filename, 'EACCES'],
    [`${__filename}/x`, 'ENOTDIR'],
  ]) {
    const child = spawn(file, ['a', 'b'])
    t.is(child.pid, undefined)
    t.is(child.pidfd, null)
    t.false(child.kill())
    const err = await t.throwsAsync(child.output())
    t.like(err, { code, syscall: `spawn ${file}`, path: file, spawnargs: ['a', 'b'], message: `spawn ${file} ${code}` })
    t.true((err as unknown as { errno: number }).errno < 0)
  }
  const noDir = spawn('true', [], { cwd: '/no/such/dir' })
  await t.throwsAsync(noDir.exited, { code: 'ENOENT' })
})

test('bad arguments throw before anything starts', (t) => {
  t.throws(() => spawn(1 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => spawn(''), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => spawn('a\u0000b'), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => spawn('true', 'x' as unknown as string[]), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => spawn('true', [1 as unknown as string]), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => spawn('true', [], null as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => spawn('true', [], { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => spawn('true', [], { timeout: 1.5 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => spawn('true', [], { killSignal: 'SIGFOO' as NodeJS.Signals }), { code: 'ERR_UNKNOWN_SIGNAL' })
  t.throws(() => spawn('true', [], { stdio: 'overlapped' as 'pipe' }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => spawn('true', [], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] as unknown as ['pipe'] }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => spawn('true', [], { uid: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => spawn('true', [], { signal: {} as AbortSignal }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => spawn('true', [], { env: { A: 'x\u0000' } }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => spawn('true', [], { forceKillAfterDelay: 'soon' as unknown as number }), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('the child starts clean: only its three streams, no signal ignored or blocked', async (t) => {
  // No shell in between: shells set dispositions of their own (busybox's
  // ignores SIGQUIT). ls opens one descriptor (3) of its own for the directory.
  const fds = await spawn('ls', ['/proc/self/fd']).output()
  t.deepEqual(fds.stdout.trim().split('\n'), ['0', '1', '2', '3'])
  const status = await spawn('grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status']).output()
  t.deepEqual(status.stdout.trim().split('\n').map((l) => l.replace(/\s+/, ' ')), ['SigBlk: 0000000000000000', 'SigIgn: 0000000000000000'])
})

test('[Symbol.asyncDispose] kills and waits; unref() lets Node exit', async (t) => {
  let pid = 0
  {
    await using child = spawn('sleep', ['1000'])
    pid = child.pid as number
  }
  t.false(exists(pid), 'killed and reaped on leaving the block')
  const ran = await runNode(['-e', "const c = require('./index.js').spawn('sleep', ['1000'], { stdio: 'ignore' }).unref(); console.log(c.pid)"])
  t.is(ran.code, 0, 'exited while the child ran')
  const orphan = Number(ran.stdout)
  t.true(exists(orphan))
  process.kill(orphan, 'SIGKILL')
})

test('a ref\'d child keeps Node alive until it exits', async (t) => {
  const ran = await runNode(['-e', "require('./index.js').spawn('sh', ['-c', 'exit 9']).exited.then((e) => console.log('exit', e.exitCode))"])
  t.is(ran.stdout, 'exit 9\n')
})

test('a subprocess pidfd joins a PidSet, and reports full exit information there', async (t) => {
  const children = [3, 5].map((code) => spawn('sh', ['-c', `read _; exit ${code}`], { stdio: ['pipe', 'ignore', 'ignore'] }))
  const set = new PidSet(children.map((c) => c.pidfd as PidFd))
  children[1].stdin?.end('go\n')
  const first = await set.waitAny()
  t.is(first.exitCode, 5)
  t.truthy(first.rusage)
  children[0].stdin?.end('go\n')
  const second = await set.waitAny()
  t.is(second.exitCode, 3)
  t.truthy(second.rusage)
  set.close()
})

test('fromChild: a child_process child, whose own exit event still fires right', async (t) => {
  const child = cpSpawn('sh', ['-c', 'read _; exit 6'], { stdio: ['pipe', 'ignore', 'ignore'] })
  const pidfd = PidFd.fromChild(child)
  const event = once(child, 'exit')
  const waited = pidfd.wait()
  child.stdin?.end('go\n')
  const exit = await waited
  t.is(exit.exitCode, 6)
  t.deepEqual(await event, [6, null])
  t.is(pidfd.tryWait()?.exitCode, 6)
  pidfd.close()
})

test('fromChild refuses children that are gone or not ours', async (t) => {
  const done = cpSpawn('true')
  await once(done, 'exit')
  t.throws(() => PidFd.fromChild(done), { code: 'ESRCH' })
  const failed = cpSpawn('/no/such/program')
  await once(failed, 'error')
  t.throws(() => PidFd.fromChild(failed), { code: 'ESRCH' })
  t.throws(() => PidFd.fromChild({ pid: 1, exitCode: null, signalCode: null }), { code: 'ECHILD' })
  t.throws(() => PidFd.fromChild({} as never), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('500 children, half child_process + fromChild and half spawn(): every exit once, right, no zombie', async (t) => {
  const n = 500
  const codes = Array.from({ length: n }, (_, i) => (i * 37) % 100)
  // Each child waits for its line, so the exits come in an order we choose.
  const go: Array<() => void> = []
  const exits: Array<Promise<ExitInfo>> = []
  const events: Array<Promise<unknown[]>> = []
  const pids: number[] = []
  for (let i = 0; i < n; i++) {
    const script = `read _; exit ${codes[i]}`
    if (i % 2 === 0) {
      const child = cpSpawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] })
      const pidfd = PidFd.fromChild(child)
      events.push(once(child, 'exit'))
      exits.push(pidfd.wait().finally(() => pidfd.close()))
      go.push(() => child.stdin?.end('go\n'))
      pids.push(child.pid as number)
    } else {
      const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] })
      exits.push(child.exited)
      go.push(() => child.stdin?.end('go\n'))
      pids.push(child.pid as number)
    }
  }
  // A random order, from a fixed seed so that a failure can be replayed.
  let seed = 12345
  const order = [...go.keys()].sort(() => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5)
  for (const i of order) go[i]()
  const seen = await Promise.all(exits)
  seen.forEach((exit, i) => t.is(exit.exitCode, codes[i], `child ${i}`))
  const fired = await Promise.all(events)
  fired.forEach((args, k) => t.deepEqual(args, [codes[k * 2], null], `child_process child ${k * 2}`))
  t.is(pids.filter(isZombie).length, 0, 'no zombie left')
})

test('output() called twice gives the same output and exit both times', async (t) => {
  const child = spawn('sh', ['-c', 'head -c 300000 /dev/zero | tr "\\0" x; echo err >&2; exit 5'])
  const first = await child.output()
  const second = await child.output()
  const third = await child.output({ encoding: 'buffer' })
  t.is(first.stdout.length, 300_000)
  t.is(first.stdout, 'x'.repeat(300_000))
  t.is(first.stderr, 'err\n')
  t.is(first.exit.exitCode, 5)
  t.deepEqual(second, first)
  t.true(Buffer.isBuffer(third.stdout))
  t.is(third.stdout.toString(), first.stdout)
  t.is(third.exit, first.exit)
})

test('output() after stdout.setEncoding(): the text comes through, and maxBuffer counts bytes', async (t) => {
  // 'é' is two bytes in UTF-8: 1,000 of them are 2,000 bytes, 1,000 characters.
  const text = 'é'.repeat(1000)
  const whole = spawn('printf', ['%s', text])
  whole.stdout?.setEncoding('utf8')
  const all = await whole.output()
  t.is(all.stdout, text)
  const bounded = spawn('printf', ['%s', text])
  bounded.stdout?.setEncoding('utf8')
  const err = await t.throwsAsync(bounded.output({ maxBuffer: 1500, encoding: 'buffer' }), { instanceOf: RangeError })
  t.is((err as unknown as { code: string }).code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
  t.is((err as unknown as { stdout: Buffer }).stdout.length, 1500, 'kept 1,500 bytes, not characters')
})

test("an exit's signal named 'SIG32' can be sent again by that name", async (t) => {
  const first = spawn('sleep', ['1000'])
  t.true(first.kill(32))
  const { signal } = await first.exited
  t.is(signal, 'SIG32')
  const second = spawn('sleep', ['1000'])
  t.true(second.kill(signal ?? 'SIGKILL'))
  t.is((await second.exited).signal, 'SIG32')
  t.throws(() => second.kill('SIG65'), { code: 'ERR_UNKNOWN_SIGNAL' })
  t.throws(() => second.kill('SIG0'), { code: 'ERR_UNKNOWN_SIGNAL' })
})

test('disposing a child that never started resolves, with no unhandled rejection', async (t) => {
  const run = await runNode([
    '-e',
    `const { spawn } = require('./index.js');
    (async () => {
      for (const child of [spawn('/nonexistent/command'), spawn('true', [], { signal: AbortSignal.abort() })]) {
        await child[Symbol.asyncDispose]();
        console.log('disposed', child.pid);
      }
      // An unhandled rejection would end the process before this line.
      setImmediate(() => console.log('alive'));
    })()`,
  ])
  t.is(run.code, 0, run.stderr)
  t.deepEqual(run.stdout.trim().split('\n'), ['disposed undefined', 'disposed undefined', 'alive'])
})

test('an AbortSignal whose addEventListener throws starts nothing and leaves no child', async (t) => {
  const run = await runNode([
    '-e',
    `const { spawn } = require('./index.js');
    const { readFileSync } = require('node:fs');
    const signal = new AbortController().signal;
    signal.addEventListener = () => { throw new Error('hostile listener') };
    let child;
    try {
      child = spawn('sleep', ['1000'], { signal });
    } catch (err) {
      console.log('threw', err.message);
    }
    (async () => {
      if (child) console.log('rejected', await child.exited.catch((e) => e.message), child.pid);
      console.log('children: [' + readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim() + ']');
    })()`,
  ])
  t.is(run.code, 0, run.stderr)
  t.deepEqual(run.stdout.trim().split('\n'), ['rejected hostile listener undefined', 'children: []'])
})

test('timedOut is true only for a child that died of the signal the timeout sent', async (t) => {
  // Children that exit by themselves about when their timeout fires: some
  // take the timeout's SIGTERM first, some exit first, and some exit just
  // before the SIGTERM reaches their zombie, which once counted as a timeout.
  const outcomes = { killed: 0, exitedFirst: 0 }
  // Fewer on the emulated kernels, where each start takes far longer.
  const rounds = TIME_SCALE > 1 ? 2 : 6
  for (let round = 0; round < rounds; round++) {
    const children = Array.from({ length: 50 }, () => spawn('sleep', ['0.03'], { timeout: 30 }))
    for (const child of children) {
      const exit = await child.exited
      t.is(child.timedOut, exit.signal === 'SIGTERM', `timedOut ${child.timedOut} for an exit by ${exit.signal ?? `code ${exit.exitCode}`}`)
      if (child.timedOut) outcomes.killed++
      else outcomes.exitedFirst++
    }
  }
  t.log(outcomes)
})

test('forceKillAfterDelay is the delay given: SIGKILL comes before a stubborn child exits by itself', async (t) => {
  // The child takes SIGTERM as its cue to exit with code 7 after 2 s (scaled
  // on slow guests): a SIGKILL 100 ms after the SIGTERM ends it first; the
  // default of 5 s would not.
  const script = `trap 'sleep ${2 * TIME_SCALE}; exit 7' TERM; echo ready; while :; do sleep 1; done`
  const forced = spawn('sh', ['-c', script], { forceKillAfterDelay: 100 })
  const never = spawn('sh', ['-c', script], { forceKillAfterDelay: false })
  for (const child of [forced, never]) {
    await once(child.stdout!, 'data')
    child.kill()
  }
  t.is((await forced.exited).signal, 'SIGKILL')
  t.is((await never.exited).exitCode, 7)
})

test('cwd as a URL follows fileURLToPath: its host and path errors thrown at once, an encoded NUL refused', (t) => {
  t.throws(() => spawn('true', [], { cwd: new URL('file://remotehost/tmp') }), { instanceOf: TypeError, code: 'ERR_INVALID_FILE_URL_HOST' })
  t.throws(() => spawn('true', [], { cwd: new URL('file:///tmp/a%2Fb') }), { instanceOf: TypeError, code: 'ERR_INVALID_FILE_URL_PATH' })
  t.throws(() => spawn('true', [], { cwd: new URL('file:///tmp/%00x') }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
})

test('a script without #! runs with /bin/sh, as child_process (execvp) runs it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-script-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const script = join(dir, 'no-shebang')
  writeFileSync(script, 'echo "ran with $1 $2"; exit 6\n', { mode: 0o755 })
  const byPath = await spawn(script, ['a', 'b c']).output()
  t.is(byPath.stdout, 'ran with a b c\n')
  t.is(byPath.exit.exitCode, 6)
  const byName = await spawn('no-shebang', ['x'], { env: { PATH: `/nonexistent:${dir}` } }).output()
  t.is(byName.stdout, 'ran with x \n')
  t.is(byName.exit.exitCode, 6)
})

test("spawn() removes its AbortSignal listener once the child has exited, or could not start", async (t) => {
  const controller = new AbortController()
  const { signal } = controller
  const children = [spawn('true', [], { signal }), spawn('sh', ['-c', 'exit 2'], { signal }), spawn('/nonexistent/command', [], { signal })]
  t.is(getEventListeners(signal, 'abort').length, 2, 'one listener per started child while it runs')
  await Promise.allSettled(children.map((c) => c.exited))
  t.is(getEventListeners(signal, 'abort').length, 0)
})

test('shell: the command line runs through /bin/sh or the shell given, as in child_process', async (t) => {
  const env = { PATH: process.env.PATH, GREETING: 'hello from the shell' }
  const viaSh = await spawn('echo "$GREETING" $((6 * 7))', [], { shell: true, env }).output()
  t.is(viaSh.stdout, 'hello from the shell 42\n')
  // Arguments are joined to the command by spaces, for the shell to read.
  const withArgs = await spawn('printf', ['"%s|"', '"a  b"', 'c'], { shell: '/bin/sh', env }).output()
  t.is(withArgs.stdout, 'a  b|c|')
  t.is((await spawn('exit 5', [], { shell: true }).exited).exitCode, 5)
  const missing = spawn('true', [], { shell: '/no/such/shell' })
  await t.throwsAsync(missing.exited, { code: 'ENOENT', message: 'spawn /no/such/shell ENOENT' })
  t.throws(() => spawn('true', [], { shell: 1 as unknown as string }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

test('input: text, bytes or a stream written to stdin, which is then closed', async (t) => {
  t.is((await spawn('cat', [], { input: 'hi\n' }).output()).stdout, 'hi\n')
  t.is((await spawn('cat', [], { input: Buffer.from([0x61, 0x62]) }).output()).stdout, 'ab')
  t.is((await spawn('cat', [], { input: new Uint16Array([0x6463]) }).output()).stdout, 'cd')
  t.is((await spawn('cat', [], { input: Readable.from(['one ', 'two']) }).output()).stdout, 'one two')
  // A child that reads none of it: the write fails (EPIPE), quietly.
  const deaf = spawn('true', [], { input: 'x'.repeat(4 * 2 ** 20) })
  t.is((await deaf.output()).exit.exitCode, 0)
  t.throws(() => spawn('cat', [], { input: 'x', stdio: 'ignore' }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /stdin is 'pipe'/ })
  t.throws(() => spawn('cat', [], { input: 42 as unknown as string }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

test('an option spawn() does not know is refused, naming the nearest known one', (t) => {
  t.throws(() => spawn('true', [], { tiemout: 5 } as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /options\.tiemout' is not an option of spawn\(\) \(did you mean 'timeout'\?\)/ })
  t.throws(() => spawn('true', [], { killsignal: 'SIGINT' } as never), { code: 'ERR_INVALID_ARG_VALUE', message: /did you mean 'killSignal'/ })
  const far = t.throws(() => spawn('true', [], { encoding: 'utf8' } as never), { code: 'ERR_INVALID_ARG_VALUE' })
  t.notRegex(far?.message ?? '', /did you mean/)
  // child_process options that mean nothing on Linux are accepted, as README says.
  t.notThrows(() => spawn('true', [], { windowsHide: true, windowsVerbatimArguments: true } as never).exited)
})
