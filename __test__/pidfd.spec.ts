import test from 'ava'
import { accessSync, constants, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { getEventListeners, once } from 'node:events'
import { PidFd, kernelSupport, type ExitInfo, type PidsetSystemError } from '../index'
import { LOAD_PIDSET, NO_SUCH_PID, assertChildStatus, exists, isZombie, kernelAtLeast, lines, nextLine, runNode, sh, sleeper, testUnless } from './helpers'

async function exitOf(t: Parameters<typeof sh>[0], script: string): Promise<ExitInfo> {
  const child = sh(t, script)
  const pidfd = PidFd.open(child.pid)
  t.teardown(() => pidfd.close())
  const info = await pidfd.wait()
  // child_process still reaps it and reports the same thing: we never reap.
  const [code, signal] = await child.exited
  t.is(info.pid, child.pid)
  assertChildStatus(t, info.exitCode, code, 'exitCode')
  assertChildStatus(t, info.signal, signal, 'signal')
  return info
}

test('open() gives a handle with the pid and an open descriptor', (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  t.is(pidfd.pid, child.pid)
  t.true(Number.isInteger(pidfd.fd) && pidfd.fd > 2)
  t.false(pidfd.closed)
  pidfd.close()
  t.is(pidfd.fd, -1)
  t.true(pidfd.closed)
  t.notThrows(() => pidfd.close(), 'close() is idempotent')
})

test('wait() reports exit codes, and child_process still gets its exit event', async (t) => {
  assertChildStatus(t, (await exitOf(t, 'true')).exitCode, 0)
  assertChildStatus(t, (await exitOf(t, 'false')).exitCode, 1)
  const seven = await exitOf(t, 'exit 7')
  assertChildStatus(t, seven.exitCode, 7)
  t.is(seven.signal, null)
})

test('wait() reports the signal that killed a process', async (t) => {
  const info = await exitOf(t, 'kill -9 $$')
  assertChildStatus(t, info.signal, 'SIGKILL')
  t.is(info.exitCode, null)
})

testUnless(kernelSupport().waitidPidfd ? null : 'needs waitid(P_PIDFD) (Linux 5.4) to read a child before its reap')('wait() reports resource usage with the fields of process.resourceUsage()', async (t) => {
  const child = sh(t, 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done')
  const pidfd = PidFd.open(child.pid)
  const pending = pidfd.wait()
  // Hold the event loop until the child is a zombie. Both exit events are
  // then queued, ours first, so this wait reads the status before libuv's
  // SIGCHLD handler reaps the child (which would take the rusage with it).
  while (!isZombie(child.pid)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
  const info = await pending
  assertChildStatus(t, info.exitCode, 0)
  t.truthy(info.rusage)
  t.deepEqual(Object.keys(info.rusage ?? {}).sort(), Object.keys(process.resourceUsage()).sort())
  t.true((info.rusage?.userCPUTime ?? 0) + (info.rusage?.systemCPUTime ?? 0) > 0)
  t.true((info.rusage?.maxRSS ?? 0) > 0)
  t.deepEqual(await child.exited, [0, null], 'child_process still reaps it')
  pidfd.close()
})

test('a child that child_process already reaped still has its exit status (with PIDFD_INFO_EXIT, Linux 6.15+)', async (t) => {
  const child = sh(t, 'exit 5')
  const pidfd = PidFd.open(child.pid)
  t.deepEqual(await child.exited, [5, null])
  const info = pidfd.tryWait()
  t.truthy(info)
  t.is(info?.rusage, null, 'reaped by someone else: the rusage went with it')
  // Reaped for sure: only PIDFD_INFO_EXIT can tell.
  t.is(info?.exitCode, kernelSupport().exitInfo ? 5 : null)
  pidfd.close()
})

test("kernelSupport() reads what the kernel lists where it lists it (7.x), and the list is what the kernel does", (t) => {
  const support = kernelSupport()
  // PIDFD_INFO_SUPPORTED_MASK: not in 6.18, in 7.3 (the kernels tested here).
  if (kernelAtLeast(7, 0)) t.true(support.supportedMask)
  if (!kernelAtLeast(6, 19)) t.false(support.supportedMask)
  // exitInfo, read from the list or found by trying, is checked against the
  // kernel's behaviour by the test above; a list implies the ioctl.
  if (support.supportedMask) t.true(support.getInfo)
})

test('several waits settle with the same ExitInfo, and later ones at once', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const waits = [pidfd.wait(), pidfd.wait(), pidfd.wait({ timeout: 60_000 })]
  t.true(pidfd.kill('SIGKILL'))
  const [a, b, c] = await Promise.all(waits)
  t.is(a, b)
  t.is(a, c)
  assertChildStatus(t, a.signal, 'SIGKILL')
  t.true(Object.isFrozen(a))
  t.is(pidfd.tryWait(), a)
  t.is(await pidfd.wait(), a)
  pidfd.close()
})

test('tryWait() and isRunning() follow the process without blocking', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  t.is(pidfd.tryWait(), null)
  t.true(pidfd.isRunning())
  child.proc.kill('SIGKILL')
  await child.exited
  t.false(pidfd.isRunning())
  // child_process reaped it: the signal is known only with PIDFD_INFO_EXIT.
  t.is(pidfd.tryWait()?.signal, kernelSupport().exitInfo ? 'SIGKILL' : null)
  pidfd.close()
})

test('kill() sends SIGTERM by default, takes names and numbers, and is false once exited', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  t.true(pidfd.kill(0), 'signal 0 only checks')
  t.true(pidfd.kill('SIGCONT'))
  t.true(pidfd.kill(18), 'SIGCONT by number')
  t.true(pidfd.isRunning())
  t.true(pidfd.kill())
  const info = await pidfd.wait()
  assertChildStatus(t, info.signal, 'SIGTERM')
  t.false(pidfd.kill('SIGKILL'), 'exited: nothing sent')
  await child.exited
  t.false(pidfd.kill('SIGKILL'), 'reaped: nothing sent')
  pidfd.close()
})

test('a pending wait settles when the process is killed through the handle', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const pending = pidfd.wait()
  t.true(pidfd.kill('SIGINT'))
  assertChildStatus(t, (await pending).signal, 'SIGINT')
  pidfd.close()
})

test('close() rejects pending waits with EBADF and later calls fail with EBADF', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const pending = pidfd.wait()
  pidfd.close()
  const err = await t.throwsAsync<PidsetSystemError>(pending, { code: 'EBADF' })
  t.is(err?.errno, -9)
  t.regex(err?.message ?? '', new RegExp(`pid ${child.pid}`))
  await t.throwsAsync(pidfd.wait(), { code: 'EBADF' })
  t.throws(() => pidfd.kill(), { code: 'EBADF' })
  t.throws(() => pidfd.tryWait(), { code: 'EBADF' })
  t.throws(() => pidfd.isRunning(), { code: 'EBADF' })
  t.true(exists(child.pid), 'closing the handle does not touch the process')
})

test('a handle closed after its exit was known still answers wait() and tryWait() with it; kill() is EBADF', async (t) => {
  const child = sh(t, 'exit 6')
  const pidfd = PidFd.open(child.pid)
  const exit = await pidfd.wait()
  pidfd.close()
  t.is(await pidfd.wait(), exit)
  t.is(pidfd.tryWait(), exit)
  t.throws(() => pidfd.kill(), { code: 'EBADF' })
})

test('a timeout rejects with ETIMEDOUT and leaves the handle usable', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const err = await t.throwsAsync(pidfd.wait({ timeout: 20 }), { code: 'ETIMEDOUT' })
  t.regex(err?.message ?? '', new RegExp(`pid ${child.pid}`))
  t.false(pidfd.closed)
  t.true(pidfd.isRunning())
  const later = pidfd.wait({ timeout: 60_000 })
  pidfd.kill('SIGKILL')
  assertChildStatus(t, (await later).signal, 'SIGKILL')
  pidfd.close()
})

test('an AbortSignal rejects like Node: AbortError, ABORT_ERR, cause = reason', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const controller = new AbortController()
  const pending = pidfd.wait({ signal: controller.signal })
  const reason = new Error('stop waiting')
  controller.abort(reason)
  const err = await t.throwsAsync(pending, { name: 'AbortError', code: 'ABORT_ERR' })
  t.is(err?.cause, reason)
  await t.throwsAsync(pidfd.wait({ signal: AbortSignal.abort('early') }), { name: 'AbortError' })
  t.true(pidfd.isRunning(), 'aborting does not touch the process')
  t.false(pidfd.closed)
  pidfd.close()
})

test('open() of a missing process throws ESRCH naming the pid', (t) => {
  const err = t.throws<PidsetSystemError>(() => PidFd.open(NO_SUCH_PID), { code: 'ESRCH' })
  t.is(err?.errno, -3)
  t.is(err?.syscall, 'pidfd_open')
  t.regex(err?.message ?? '', new RegExp(`pid ${NO_SUCH_PID}`))
})

test('bad pids throw TypeError or RangeError with Node codes', (t) => {
  for (const pid of ['1', 1n, null, undefined, {}, [1]]) {
    t.throws(() => PidFd.open(pid as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, String(pid))
  }
  for (const pid of [0, -1, 1.5, NaN, Infinity, 2 ** 31, -0.5]) {
    t.throws(() => PidFd.open(pid), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, String(pid))
  }
})

test('bad signals and wait options are refused without touching the process', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  for (const signal of ['SIGFOO', 'sigterm', '', 65, -1, 1.5, NaN]) {
    t.throws(() => pidfd.kill(signal as never), { instanceOf: TypeError, code: 'ERR_UNKNOWN_SIGNAL' }, String(signal))
  }
  for (const signal of [{}, 9n, null, true]) {
    t.throws(() => pidfd.kill(signal as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, String(signal))
  }
  for (const options of [null, 5, 'x']) {
    await t.throwsAsync(pidfd.wait(options as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  }
  await t.throwsAsync(pidfd.wait({ timeout: '5' as never }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(pidfd.wait({ signal: {} as never }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  for (const timeout of [-1, NaN, Infinity, 2 ** 31]) {
    await t.throwsAsync(pidfd.wait({ timeout }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  }
  t.true(pidfd.isRunning())
  pidfd.close()
})

test('real-time signals are sent and reported by name', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  t.true(pidfd.kill('SIGRTMIN+3'))
  assertChildStatus(t, (await pidfd.wait()).signal, 'SIGRTMIN+3')
  pidfd.close()
})

test('waits on a process that is not our child; its status once its parent reaps it', async (t) => {
  // The shell's child, not ours: the shell reaps it, then says so.
  const shell = sh(t, 'exec 2>/dev/null; sleep 1000 & echo $!; wait $!; echo reaped; read _')
  const out = lines(shell)
  const grandchild = Number(await nextLine(out))
  const pidfd = PidFd.open(grandchild)
  const pending = pidfd.wait()
  t.true(pidfd.kill('SIGKILL'))
  const seen = await pending
  t.is(seen.pid, grandchild)
  t.is(seen.rusage, null, 'rusage is known only for our own children')
  t.is(await nextLine(out), 'reaped')
  t.is(pidfd.tryWait()?.signal, kernelSupport().exitInfo ? 'SIGKILL' : null)
  pidfd.close()
})

/** ns_last_pid makes the next fork get the PID just freed; writing it needs root (CAP_SYS_ADMIN over the PID namespace). */
const NS_LAST_PID = '/proc/sys/kernel/ns_last_pid'

function nsLastPidBlocker(): string | null {
  try {
    accessSync(NS_LAST_PID, constants.W_OK)
    writeFileSync(NS_LAST_PID, readFileSync(NS_LAST_PID, 'utf8'))
    return null
  } catch {
    return `writing ${NS_LAST_PID} needs root`
  }
}

testUnless(nsLastPidBlocker())('never signals a process that reused the PID', async (t) => {
  // In this process's own PID namespace, where other processes fork too:
  // a few attempts may lose the freed PID to them. (pid-reuse.spec.ts
  // forces 1,000 reuses in a namespace of its own.)
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = sleeper(t)
    const pidfd = PidFd.open(first.pid)
    first.proc.kill('SIGKILL')
    await first.exited
    writeFileSync(NS_LAST_PID, String(first.pid - 1))
    const second = spawn('sleep', ['1000'])
    t.teardown(() => second.kill('SIGKILL'))
    if (second.pid !== first.pid) {
      second.kill('SIGKILL')
      pidfd.close()
      continue
    }
    t.false(pidfd.kill('SIGKILL'), 'the old handle refuses: its process is gone')
    t.true(pidfd.tryWait() !== null)
    t.true(exists(second.pid), 'the newcomer with the same PID was not touched')
    const reused = PidFd.open(second.pid)
    t.true(reused.isRunning())
    reused.kill('SIGKILL')
    await once(second, 'exit')
    reused.close()
    pidfd.close()
    return
  }
  t.fail('other processes took the freed PID in all 20 attempts')
})

test('no input crashes the process', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  // undefined is left out: it means "the default" (SIGTERM, no timeout).
  const weird: unknown[] = [null, 0, -0, 1e308, -1e308, NaN, '', 'x'.repeat(10_000), Symbol('s'), 1n, {}, [], () => 1, new Proxy({}, {})]
  const waits: Promise<unknown>[] = []
  const isCoded = (err: unknown): boolean => typeof (err as { code?: unknown }).code === 'string'
  for (const value of weird) {
    try { PidFd.open(value as never) } catch (err) { t.true(isCoded(err)) }
    try { pidfd.kill(value as never) } catch (err) { t.true(isCoded(err)) }
    // Some of these are valid options ({} or []): those waits stay pending
    // until close() below rejects them.
    waits.push(pidfd.wait(value as never).catch((err) => t.true(isCoded(err))))
    waits.push(pidfd.wait({ timeout: value } as never).catch((err) => t.true(isCoded(err))))
  }
  t.true(pidfd.isRunning())
  pidfd.close()
  await Promise.all(waits)
})

test('ref()/unref() return the handle', (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  t.is(pidfd.unref(), pidfd)
  t.is(pidfd.ref(), pidfd)
  pidfd.close()
})

test('Symbol.dispose closes the handle', (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  pidfd[Symbol.dispose]()
  t.true(pidfd.closed)
  t.true(exists(child.pid))
})

test('a pending wait settles even when tryWait() saw the exit first', async (t) => {
  const child = sh(t, 'exit 3')
  const pidfd = PidFd.open(child.pid)
  const pending = pidfd.wait()
  // Another wait settling re-syncs the watch: this once stranded `pending`.
  pidfd.wait({ timeout: 1 }).catch(() => {})
  while (!pidfd.tryWait()) {
    // The child exits on its own; tryWait() sees it before the event loop.
  }
  t.is((await pending).exitCode, 3)
  pidfd.close()
})

test('new PidFd() from JavaScript throws ERR_ILLEGAL_CONSTRUCTOR', (t) => {
  const Ctor = PidFd as unknown as new (pid: number) => PidFd
  t.throws(() => new Ctor(1), { instanceOf: TypeError, code: 'ERR_ILLEGAL_CONSTRUCTOR' })
})

test('timeout: 0 means no timeout, as in child_process', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const wait = pidfd.wait({ timeout: 0 })
  const state = await Promise.race([wait.then(() => 'settled', (e: { code?: string }) => e.code), new Promise((r) => setImmediate(() => r('pending')))])
  t.is(state, 'pending')
  pidfd.kill('SIGKILL')
  assertChildStatus(t, (await wait).signal, 'SIGKILL')
  pidfd.close()
})

test('10,000 waits on one AbortSignal leave no listener behind', async (t) => {
  const child = sleeper(t)
  const signal = new AbortController().signal
  for (let i = 0; i < 10_000; i++) {
    const pidfd = PidFd.open(child.pid)
    const wait = pidfd.wait({ signal })
    pidfd.close()
    await wait.catch(() => {})
  }
  t.is(getEventListeners(signal, 'abort').length, 0)
  const pidfd = PidFd.open(child.pid)
  const many = Array.from({ length: 8 }, () => pidfd.wait({ signal }))
  t.is(getEventListeners(signal, 'abort').length, 8)
  pidfd.kill('SIGKILL')
  await Promise.all(many)
  t.is(getEventListeners(signal, 'abort').length, 0)
  pidfd.close()
})

test('a thread ID gives EINVAL before Linux 6.15 and ENOENT from 6.15', async (t) => {
  const run = await runNode(['-e', `${LOAD_PIDSET}
    const { Worker } = require('node:worker_threads');
    const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
    w.on('online', () => {
      const tid = require('node:fs').readdirSync('/proc/self/task').map(Number).find((n) => n !== process.pid);
      try { PidFd.open(tid); console.log('opened') } catch (e) { console.log(e.code, e.syscall) }
      w.terminate();
    });`])
  t.is(run.code, 0, run.stderr)
  t.is(run.stdout.trim(), `${kernelAtLeast(6, 15) ? 'ENOENT' : 'EINVAL'} pidfd_open`)
})

test('errors from the binding carry errno, syscall and pid as data', (t) => {
  const before = readdirSync('/proc/self/fd').length
  const err = t.throws(() => PidFd.open(2 ** 30), { code: 'ESRCH' }) as Error & { errno?: number; syscall?: string; pid?: number }
  t.is(err.errno, -3)
  t.is(err.syscall, 'pidfd_open')
  t.is(err.pid, 2 ** 30)
  t.is(readdirSync('/proc/self/fd').length, before)
})
