// Faults the kernel can be made to produce: one pidfd call made to fail
// with a chosen errno by a seccomp filter (fixtures/seccomp-pidfd.c), in a
// subprocess (fixtures/kernel-faults.cjs). Each failure is a Node-style
// error naming the call and the pid; everything that does not need the
// call goes on working.
import { constants } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { kernelSupport } from '../index'
import { assertForeignExit, builtFixture, runCommand, testUnless } from './helpers'

const helper = builtFixture('seccomp-pidfd', 'program')
const faultTest = testUnless(helper ? null : 'needs a C compiler (cc) for the seccomp helper')

interface Failure {
  error: true
  code: string
  errno: number
  syscall: string
  pid: number
  message: string
}
interface Exit {
  signal: string | null
  exitCode: number | null
  rusage: boolean
}
interface Outcome {
  pids: { child: number; grandchild: number }
  open: 'ok' | Failure
  kill?: boolean | Failure
  wait?: Exit | Failure
  waitAgain?: Exit | Failure
  notOurChild: Exit | Failure
  spawn: Exit | Failure
}

async function underFault(call: string, errno: keyof typeof constants.errno): Promise<Outcome> {
  const fixture = join(__dirname, 'fixtures', 'kernel-faults.cjs')
  const ran = await runCommand(helper as string, ['fail', call, String(constants.errno[errno]), process.execPath, fixture])
  if (ran.code !== 0) throw new Error(`exit ${ran.code ?? ran.signal}: ${ran.stderr}`)
  return JSON.parse(ran.stdout) as Outcome
}

/** A Node-style system error: code, negative errno, the call, the pid, and a message naming both. */
function assertFailure(t: ExecutionContext, actual: unknown, code: string, syscall: string, pid: number): void {
  t.like(actual, { error: true, code, errno: -constants.errno[code as keyof typeof constants.errno], syscall, pid })
  t.regex((actual as Failure).message, new RegExp(`^${syscall} ${code}: .*\\(pid ${pid}\\)$`))
}

faultTest('pidfd_open forbidden (EPERM): an error that says a sandbox forbids pidfds; spawn() needs none', async (t) => {
  const out = await underFault('pidfd_open', 'EPERM')
  assertFailure(t, out.open, 'EPERM', 'pidfd_open', out.pids.child)
  t.regex((out.open as Failure).message, /forbidden here by the kernel or a sandbox/)
  assertFailure(t, out.notOurChild, 'EPERM', 'pidfd_open', out.pids.grandchild)
  // spawn() gets its pidfd from clone(CLONE_PIDFD), not pidfd_open.
  t.deepEqual(out.spawn, { signal: null, exitCode: 4, rusage: true })
})

faultTest('pidfd_send_signal failing (EPERM): kill() throws it; waits still settle', async (t) => {
  const out = await underFault('pidfd_send_signal', 'EPERM')
  t.is(out.open, 'ok')
  assertFailure(t, out.kill, 'EPERM', 'pidfd_send_signal', out.pids.child)
  t.like(out.wait, { signal: 'SIGTERM' })
  t.like(out.waitAgain, { signal: 'SIGTERM' })
  // Somebody else's process has its status only with PIDFD_INFO_EXIT (6.15+).
  t.like(out.notOurChild, { signal: kernelSupport().exitInfo ? 'SIGKILL' : null })
  t.deepEqual(out.spawn, { signal: null, exitCode: 4, rusage: true })
})

faultTest('waitid failing (EIO): each wait rejects with it, naming the pid, and a later wait tries again', async (t) => {
  const out = await underFault('waitid', 'EIO')
  t.is(out.kill, true)
  assertFailure(t, out.wait, 'EIO', 'waitid', out.pids.child)
  assertFailure(t, out.waitAgain, 'EIO', 'waitid', out.pids.child)
  // pidset asks waitid first of any process (it answers ECHILD for one
  // that is not our child): a failure other than ECHILD is reported.
  assertFailure(t, out.notOurChild, 'EIO', 'waitid', out.pids.grandchild)
  // A child of pidset's own cannot be read (or reaped) without waitid.
  t.like(out.spawn, { error: true, code: 'EIO', syscall: 'waitid' })
})

faultTest('PIDFD_GET_INFO failing (EIO): our children keep their status; somebody else\'s exit comes without one', async (t) => {
  const out = await underFault('pidfd_get_info', 'EIO')
  t.is(out.kill, true)
  assertForeignExit(t, out.wait, { signal: 'SIGTERM', exitCode: null, rusage: true }, { signal: null, exitCode: null, rusage: false })
  t.deepEqual(out.waitAgain, out.wait)
  // The exit is still reported, at the reap grace period at the latest.
  t.deepEqual(out.notOurChild, { signal: null, exitCode: null, rusage: false })
  t.deepEqual(out.spawn, { signal: null, exitCode: 4, rusage: true })
})

faultTest('PIDFD_GET_INFO answering ENOSYS (qemu-user does, for every ioctl it does not know): info() reads /proc, descendants() and killTree() find the tree', async (t) => {
  const script = `
    const { PidFd, descendants, killTree, spawn } = require('./index.js');
    (async () => {
      const child = spawn('sh', ['-c', 'sleep 1000 & sleep 1000 & echo ready; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
      for await (const chunk of child.stdout) if (String(chunk).includes('ready')) break;
      const self = PidFd.open(process.pid);
      const info = self.info();
      const below = descendants(child.pid);
      const exits = await killTree(child.pid, 'SIGKILL', { wait: true });
      console.log(JSON.stringify({ info: [info.pid === process.pid, info.ppid === process.ppid], below: below.length, exits: exits.length, signal: (await child.exited).signal }));
    })().catch((e) => { console.log(JSON.stringify({ error: e.code, syscall: e.syscall })); });`
  const ran = await runCommand(helper as string, ['fail', 'pidfd_get_info', String(constants.errno.ENOSYS), process.execPath, '-e', script])
  t.is(ran.code, 0, ran.stderr)
  t.deepEqual(JSON.parse(ran.stdout), { info: [true, true], below: 2, exits: 3, signal: 'SIGKILL' })
})
