// The paths of kernels the matrix cannot boot (Debian serves none before
// 5.10), and 6.12's at native speed: each case runs in a Node process whose
// pidfd calls a seccomp filter answers as that kernel would
// (fixtures/seccomp-pidfd.c). The booted kernels run the whole suite
// (.ci/kernels/matrix.sh).
import { ROOT, assertForeignExit, builtFixture, runCommand, testUnless } from './helpers'

const helper = builtFixture('seccomp-pidfd', 'program')
const kernelTest = testUnless(helper ? null : 'needs a C compiler (cc) for the seccomp helper')

/** What the script below prints, as JSON. */
interface Outcome {
  support: Record<string, boolean>
  error?: [string, string, boolean]
  nonblock?: boolean
  running?: boolean
  exit?: { code: number | null; rusage: boolean }
  killAfterExit?: boolean
  waitAll?: number
  timeout?: string
}

const script = `
  const { PidFd, PidSet, kernelSupport } = require('./index.js');
  const { spawn } = require('node:child_process');
  const fs = require('node:fs');
  const zombie = (pid) => { const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2)[0] === 'Z' };
  (async () => {
    const out = { support: kernelSupport() };
    try {
      // Spawned, opened and waited for in one tick, then the loop is held
      // until the child is a zombie: libuv cannot have reaped it yet.
      const child = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
      const pidfd = PidFd.open(child.pid);
      const flags = /flags:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/fdinfo/' + pidfd.fd, 'utf8'))[1];
      out.nonblock = (parseInt(flags, 8) & 0o4000) !== 0;
      const pending = pidfd.wait();
      while (!zombie(child.pid)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      const info = await pending;
      out.exit = { code: info.exitCode, rusage: info.rusage !== null };
      out.killAfterExit = pidfd.kill('SIGKILL');
      const sleeper = spawn('sleep', ['1000']);
      const set = new PidSet([sleeper.pid]);
      const [member] = set.values();
      out.running = member.isRunning() && member.tryWait() === null;
      const all = set.waitAll();
      sleeper.kill('SIGKILL');
      out.waitAll = (await all).length;
      const other = spawn('sleep', ['1000']);
      out.timeout = await PidFd.open(other.pid).wait({ timeout: 20 }).then(() => 'settled', (e) => e.code);
      other.kill('SIGKILL');
    } catch (e) {
      out.error = [e.code, e.syscall, /Linux 5\\.3/.test(e.message)];
    }
    console.log(JSON.stringify(out));
    process.exit(0);
  })();`

async function asKernel(level: string): Promise<Outcome> {
  const run = await runCommand(helper ?? '', [level, process.execPath, '-e', script], { cwd: ROOT })
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`)
  return JSON.parse(run.stdout) as Outcome
}

/** The features of the exit path, which the seccomp filter imitates a kernel without. */
const none = { pidfdOpen: false, waitidPidfd: false, nonblock: false, getInfo: false, exitInfo: false }

/** Those fields of a kernelSupport() result (the rest are the host kernel's own). */
function exitPath(support: Record<string, boolean>): typeof none {
  return Object.fromEntries(Object.keys(none).map((k) => [k, support[k]])) as typeof none
}

kernelTest('as Linux 5.2 (no pidfd_open): ENOSYS that names the Linux version needed', async (t) => {
  const out = await asKernel('5.2')
  t.deepEqual(exitPath(out.support), none)
  t.deepEqual(Object.values(out.support), Object.values(out.support).map(() => false), 'without pidfd_open, nothing else')
  t.deepEqual(out.error, ['ENOSYS', 'pidfd_open', true])
})

/** Each imitated kernel that has pidfd_open, and what pidset must report on it. */
const levels: Array<{ level: string; lacks: string; support: Partial<typeof none>; exit: Outcome['exit'] }> = [
  { level: '5.3', lacks: 'waitid(P_PIDFD), PIDFD_NONBLOCK', support: { pidfdOpen: true }, exit: { code: null, rusage: false } },
  { level: '5.4', lacks: 'PIDFD_NONBLOCK', support: { pidfdOpen: true, waitidPidfd: true }, exit: { code: 3, rusage: true } },
  { level: '6.12', lacks: 'PIDFD_GET_INFO', support: { pidfdOpen: true, waitidPidfd: true, nonblock: true }, exit: { code: 3, rusage: true } },
]

for (const { level, lacks, support, exit } of levels) {
  const status = exit?.code === null ? 'no status for our children' : 'our children report code and rusage'
  kernelTest(`as Linux ${level} (no ${lacks}): waits, kills and sets work; ${status}`, async (t) => {
    const out = await asKernel(level)
    t.is(out.error, undefined)
    t.deepEqual(exitPath(out.support), { ...none, ...support })
    t.is(out.nonblock, out.support.nonblock, 'the descriptor is non-blocking exactly where the kernel allows')
    t.true(out.running)
    assertForeignExit(t, out.exit, exit, { code: null, rusage: false })
    t.false(out.killAfterExit, 'nothing is sent after the exit')
    t.is(out.waitAll, 1)
    t.is(out.timeout, 'ETIMEDOUT')
  })
}
