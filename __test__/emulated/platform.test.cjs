// A platform package tested where ava cannot run: the arm64 glibc build
// under emulated arm64 Node (qemu-user; __test__/emulated/run.sh), and the
// musl builds under a musl Node in a root with no glibc (x64 natively, arm64
// emulated; __test__/musl/run.sh). node:test, not ava: ava starts its
// workers with process.execPath, an arm64 binary the kernel cannot run
// without binfmt_misc.
//
// PIDSET_PLATFORM names the package under test (linux-arm64-gnu,
// linux-x64-musl, linux-arm64-musl); PIDSET_PACKAGE is what to require
// (this repository by default; 'pidset' where it was installed).
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const { readFileSync } = require('node:fs')
const platform = process.env.PIDSET_PLATFORM ?? 'linux-arm64-gnu'
const pidset = require(process.env.PIDSET_PACKAGE ?? '../..')
const { PidFd, PidSet } = pidset

const children = new Set()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})

/** `sh -c script`, started now; killed at exit if still running. */
function sh(script) {
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] })
  children.add(child)
  const exited = once(child, 'exit')
  exited.then(() => children.delete(child))
  return { pid: child.pid, exited, child }
}

/** The status is the expected one, or unknown because someone else reaped it. */
function assertStatus(info, exitCode, signal) {
  if (info.exitCode === null && info.signal === null) {
    assert.equal(info.rusage, null, JSON.stringify(info))
    return
  }
  assert.equal(info.exitCode, exitCode, JSON.stringify(info))
  assert.equal(info.signal, signal, JSON.stringify(info))
}

function isZombie(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}

/**
 * `script` run once it is told to, and held until it is a zombie: its exit
 * event and Node's SIGCHLD are then queued together, ours first, so the
 * status is read before child_process reaps it. (Under qemu-user the
 * PIDFD_GET_INFO ioctl, which knows the status of a reaped process, is not
 * emulated.)
 */
function exitNow(target) {
  target.child.stdin.end('go\n')
  holdUntilZombie(target.pid)
}

/** Blocks the event loop until `pid` is a zombie (see exitNow). */
function holdUntilZombie(pid) {
  while (!isZombie(pid)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
}

test(`runs on ${platform} with that platform's binary`, () => {
  const [, arch, libc] = platform.split('-')
  assert.equal(process.arch, arch)
  const glibc = process.report.getReport().header.glibcVersionRuntime
  assert.equal(glibc === undefined ? 'musl' : 'gnu', libc, `glibc ${glibc}`)
  const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'))
  assert.deepEqual(loaded.map((f) => f.split('/').pop()), [`pidset.${platform}.node`])
})

test('open, tryWait, kill and wait report a signal', async () => {
  const { pid, exited, child } = sh('exec sleep 1000')
  const pidfd = PidFd.open(pid)
  assert.equal(pidfd.pid, pid)
  assert.equal(pidfd.tryWait(), null)
  assert.equal(pidfd.isRunning(), true)
  const wait = pidfd.wait()
  assert.equal(pidfd.kill('SIGKILL'), true)
  holdUntilZombie(pid)
  const info = await wait
  assert.equal(info.signal, 'SIGKILL')
  assert.equal(info.exitCode, null)
  assert.deepEqual(await exited, [null, 'SIGKILL'])
  assert.equal(pidfd.kill(), false)
  pidfd.close()
  assert.equal(child.killed || child.signalCode === 'SIGKILL', true)
})

test('exit codes of true, false and exit 7', async () => {
  for (const [script, code] of [['true', 0], ['false', 1], ['exit 7', 7]]) {
    const target = sh(`read _; ${script}`)
    const pidfd = PidFd.open(target.pid)
    const wait = pidfd.wait()
    exitNow(target)
    assert.equal((await wait).exitCode, code, script)
    assert.deepEqual(await target.exited, [code, null], script)
    pidfd.close()
  }
})

test('a timeout rejects with ETIMEDOUT; a missing pid throws ESRCH', async () => {
  const { pid } = sh('exec sleep 1000')
  const pidfd = PidFd.open(pid)
  await assert.rejects(pidfd.wait({ timeout: 20 }), { code: 'ETIMEDOUT' })
  pidfd.kill('SIGKILL')
  await pidfd.wait()
  pidfd.close()
  assert.throws(() => PidFd.open(2 ** 30), { code: 'ESRCH', syscall: 'pidfd_open' })
})

test('PidSet waitAny and waitAll', async () => {
  const quick = sh('read _; exit 3')
  const slow = [sh('exec sleep 1000'), sh('exec sleep 1000')]
  const set = new PidSet([quick.pid, ...slow.map((s) => s.pid)])
  const any = set.waitAny()
  exitNow(quick)
  const first = await any
  assert.equal(first.pid, quick.pid)
  // Under qemu, child_process sometimes reaps a child before pidset reads
  // it here, and the PIDFD_GET_INFO fallback is not emulated, so the status
  // may be unknown; if known, it must be right. (Statuses are checked
  // strictly in the PidFd tests above.)
  assertStatus(first, 3, null)
  const all = set.waitAll()
  for (const s of slow) s.child.kill('SIGTERM')
  for (const s of slow) holdUntilZombie(s.pid)
  const rest = await all
  assert.deepEqual(rest.map((i) => i.pid).sort(), slow.map((s) => s.pid).sort())
  for (const info of rest) assertStatus(info, null, 'SIGTERM')
  assert.equal(set.size, 0)
  set.close()
})

test('spawn(): exit code and rusage, output(), and a start failure', async () => {
  // qemu-user runs clone(CLONE_VM | CLONE_VFORK) as a plain fork and may
  // not know CLONE_PIDFD: the start must still work and report failures.
  const { spawn: pidsetSpawn } = pidset
  const child = pidsetSpawn('sh', ['-c', 'echo out; echo err >&2; exit 7'])
  const { stdout, stderr, exit } = await child.output()
  assert.equal(stdout, 'out\n')
  assert.equal(stderr, 'err\n')
  assert.equal(exit.exitCode, 7)
  assert.equal(exit.pid, child.pid)
  assert.notEqual(exit.rusage, null)
  const missing = pidsetSpawn('/no/such/program')
  assert.equal(missing.pid, undefined)
  await assert.rejects(missing.exited, { code: 'ENOENT', message: 'spawn /no/such/program ENOENT' })
})

test('descendants() and killTree(): a shell and its two sleeps, all gone, with their exits', async () => {
  const { spawn: pidsetSpawn, descendants, killTree } = pidset
  const child = pidsetSpawn('sh', ['-c', 'sleep 1000 & sleep 1000 & echo ready; wait'], { stdio: ['ignore', 'pipe', 'ignore'] })
  // Both sleeps are forked once the shell says so.
  for await (const chunk of child.stdout) if (String(chunk).includes('ready')) break
  const below = descendants(child.pid)
  assert.equal(below.length, 2)
  for (const pidfd of below) pidfd.close()
  const exits = await killTree(child.pid, 'SIGKILL', { wait: true })
  assert.equal(exits.length, 3)
  for (const exit of exits) assert.notEqual(exit.exitCode, 0)
  assert.equal((await child.exited).signal, 'SIGKILL')
})

test('info() of this process, and coreDumped of an exit', async () => {
  const self = PidFd.open(process.pid)
  const info = self.info()
  assert.equal(info.pid, process.pid)
  assert.equal(info.ppid, process.ppid)
  self.close()
  const exit = await pidset.spawn('sh', ['-c', 'exit 4']).exited
  assert.deepEqual([exit.exitCode, exit.signal, exit.coreDumped], [4, null, false])
})
