// Regression tests for the exit path: each case here once lost an exit,
// hung a wait, or let an error escape unconverted (issue 8).
import test from 'ava'
import { getEventListeners } from 'node:events'
import { readdirSync } from 'node:fs'
import { PidFd, PidSet, type ExitInfo } from '../index'
import { assertChildStatus, assertLinesWithChildStatuses, builtFixture, kernelAtLeast, runNode, sh, sleeper, testUnless } from './helpers'

const load = "const { PidFd, PidSet } = require('./index.js'); const { spawn } = require('node:child_process');"
const faults = ['-r', './__test__/fixtures/faults.cjs']

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

test('seeing exits with tryWait() then leaving a set loses no pending wait', async (t) => {
  const children = Array.from({ length: 40 }, () => sleeper(t))
  const set = new PidSet()
  const waits = children.map((c) => set.add(PidFd.open(c.pid)).wait())
  // Each exit is seen before the event loop can report it, then the member
  // leaves the set (a re-sync of its watch): this once stranded its wait.
  for (const pidfd of [...set.values()]) {
    pidfd.kill('SIGKILL')
    while (!pidfd.tryWait()) {
      // SIGKILL takes effect within microseconds.
    }
    set.delete(pidfd)
  }
  const infos = await Promise.all(waits)
  t.deepEqual(infos.map((i) => i.signal), children.map(() => 'SIGKILL'))
  set.close()
})

test("a set's waitAny() reports a member whose exit tryWait() saw first", async (t) => {
  const child = sh(t, 'exit 6')
  const pidfd = PidFd.open(child.pid)
  while (!pidfd.tryWait()) {
    // Wait for the exit without the event loop.
  }
  const set = new PidSet([pidfd])
  t.is((await set.waitAny()).exitCode, 6)
  const other = sh(t, 'exit 7')
  const second = PidFd.open(other.pid)
  const set2 = new PidSet([second])
  const pending = set2.waitAny()
  // A wait on the handle that settles (times out) after tryWait() saw the
  // exit, but before the event loop reported it, re-syncs the watch.
  second.wait({ timeout: 1 }).catch(() => {})
  while (!second.tryWait()) {
    // As above, but with the set already waiting.
  }
  t.is((await pending).exitCode, 7)
  set.close()
  set2.close()
  pidfd.close()
  second.close()
})

test('a PidFd in two sets is reported by both', async (t) => {
  const child = sleeper(t)
  const a = new PidSet()
  const b = new PidSet()
  b.add(a.add(child.pid))
  const [fromB, fromA] = [b.waitAny(), a.waitAny()]
  child.proc.kill('SIGKILL')
  const [infoA, infoB] = await Promise.all([fromA, fromB])
  assertChildStatus(t, infoA.signal, 'SIGKILL')
  t.is(infoB, infoA, 'the same frozen ExitInfo')
  t.is(a.size + b.size, 0)
  a.close()
  b.close()
})

test('iteration ends, without throwing, when its last member is deleted', async (t) => {
  const child = sleeper(t)
  const set = new PidSet([child.pid])
  const seen: ExitInfo[] = []
  const loop = (async () => {
    for await (const info of set as AsyncIterable<ExitInfo>) seen.push(info)
  })()
  setImmediate(() => set.delete(child.pid))
  await t.notThrowsAsync(loop)
  t.deepEqual(seen, [])
  set.close()
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
  const run = await runNode(['-e', `${load}
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

test('EMFILE on the first wait rejects it, leaks nothing and keeps later waits working', async (t) => {
  // Node raises the soft limit to the hard one at start-up: set both.
  const script = `${load}
    const fs = require('node:fs');
    process.on('unhandledRejection', (e) => { console.log('unhandled', e.code); process.exit(1) });
    const child = spawn('sh', ['-c', 'read line; exit 3'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.unref(); child.stdin.unref?.();
    const pidfd = PidFd.open(child.pid);
    const filler = [];
    for (;;) { try { filler.push(fs.openSync('/dev/null', 'r')) } catch { break } }
    pidfd.wait({ timeout: 50 }).then(() => console.log('unexpected'), (e) => {
      console.log(e.code, e.errno, e.syscall);
      for (const fd of filler) fs.closeSync(fd);
      pidfd.wait().then((info) => console.log('exit', info.exitCode));
      child.stdin.end('go\\n');
    });`
  const run = await runNode(['-e', `require('node:child_process').execFileSync('sh', ['-c', 'ulimit -n 64 && exec "$0" -e "$1"', process.execPath, ${JSON.stringify(script)}], { stdio: 'inherit', cwd: process.cwd() })`])
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), ['EMFILE -24 epoll_create1', 'exit <3>'])
})

test('waitid failing during dispatch rejects the waits of the PidFd and of its sets, and both can wait again', async (t) => {
  const run = await runNode([...faults, '-e', `${load}
    (async () => {
      const child = spawn('sh', ['-c', 'read line; exit 5'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const pidfd = PidFd.open(child.pid);
      const set = new PidSet([pidfd]);
      const results = [pidfd.wait(), set.waitAny()].map((p) => p.then((i) => 'exit ' + i.exitCode, (e) => [e.code, e.syscall, e.pid === child.pid].join(' ')));
      // The one read of the exit fails; the set's retry (at once, as it
      // reports the failure) reads again, on either front-end.
      injectFault('waitid', 5 /* EIO */, 1);
      child.stdin.end('go\\n');
      console.log((await Promise.all(results)).join(' | '));
      const again = await Promise.all([pidfd.wait(), set.waitAny()]);
      console.log(again.map((i) => 'exit ' + i.exitCode).join(' | '));
    })();`])
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), ['EIO waitid true | EIO waitid true', 'exit <5> | exit <5>'])
})

test('epoll_wait failing rejects every pending wait, and later waits work', async (t) => {
  const run = await runNode([...faults, '-e', `${load}
    (async () => {
      const a = spawn('sleep', ['1000']); const b = spawn('sh', ['-c', 'read line; exit 2'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const pa = PidFd.open(a.pid); const set = new PidSet([b.pid]);
      const pending = [pa.wait(), set.waitAll()].map((p) => p.then(() => 'settled', (e) => e.code + ' ' + e.syscall));
      injectFault('epoll_wait', 9 /* EBADF */, 1);
      a.kill('SIGKILL');
      console.log((await Promise.all(pending)).join(' | '));
      const later = set.waitAll();
      b.stdin.end('go\\n');
      console.log((await later).map((i) => String(i.exitCode)).join(), (await pa.wait()).signal);
    })();`])
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), ['EBADF epoll_wait | EBADF epoll_wait', '<2> <SIGKILL>'])
})

test('AbortSignal methods that throw cannot leave timers behind or drop exits', async (t) => {
  const run = await runNode(['-e', `${load}
    process.on('unhandledRejection', (e) => { console.log('unhandled', e.code ?? e.message); process.exit(1) });
    process.on('warning', (w) => { if (w.name === 'PidsetWarning') console.log('warning') });
    (async () => {
      const child = spawn('sh', ['-c', 'read line; exit 1'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const other = spawn('sh', ['-c', 'read line; exit 2'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const throwsOnAdd = new AbortController().signal;
      throwsOnAdd.addEventListener = () => { throw new Error('add refused') };
      const pidfd = PidFd.open(child.pid);
      console.log(await pidfd.wait({ signal: throwsOnAdd, timeout: 1 }).catch((e) => e.message));
      const throwsOnRemove = new AbortController().signal;
      throwsOnRemove.removeEventListener = () => { throw new Error('remove refused') };
      const second = PidFd.open(other.pid);
      const both = [pidfd.wait({ signal: throwsOnRemove }), second.wait({ signal: throwsOnRemove })];
      child.stdin.end('go\\n'); other.stdin.end('go\\n');
      console.log((await Promise.all(both)).map((i) => String(i.exitCode)).join());
    })();`])
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), ['add refused', 'warning', 'warning', '<1>,<2>'])
})

test('errors from the binding carry errno, syscall and pid as data', (t) => {
  const before = readdirSync('/proc/self/fd').length
  const err = t.throws(() => PidFd.open(2 ** 30), { code: 'ESRCH' }) as Error & { errno?: number; syscall?: string; pid?: number }
  t.is(err.errno, -3)
  t.is(err.syscall, 'pidfd_open')
  t.is(err.pid, 2 ** 30)
  t.is(readdirSync('/proc/self/fd').length, before)
})

const enospcShim = builtFixture('enospc-shim', 'library')

testUnless(enospcShim ? null : 'needs a C compiler (cc) for the epoll_ctl shim')('fs.epoll.max_user_watches running out gives ENOSPC errors, never a libuv abort', async (t) => {
  // The shim makes every new registration through libc fail as the kernel
  // does at the limit, while PIDSET_TEST_ENOSPC is set (see the shim).
  const shim = enospcShim ?? ''
  const run = await runNode(
    [...faults, '-e', `${load}
      const child = spawn('sh', ['-c', 'read line; exit 4'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const failed = (f) => { try { f(); return 'no error' } catch (e) { return [e.code, e.syscall].join(' ') } };
      setImmediate(() => {
        // Out of watches before the first wait: creating the poller fails.
        process.env.PIDSET_TEST_ENOSPC = '1';
        console.log(failed(() => new PidSet([child.pid])));
        delete process.env.PIDSET_TEST_ENOSPC;
        // Out of watches in the tick the poller was created, before libuv
        // registered it: the set's add fails, and libuv's registration must not.
        const set = new PidSet([child.pid]);
        process.env.PIDSET_TEST_ENOSPC = '1';
        injectFault('epoll_ctl', 28 /* ENOSPC */, 1);
        console.log(failed(() => set.add(process.pid)));
        setImmediate(async () => {
          delete process.env.PIDSET_TEST_ENOSPC;
          const done = set.waitAny();
          child.stdin.end('go\\n');
          console.log('exit', (await done).exitCode, set.size);
        });
      });`],
    20_000,
    // libuv's own registration is what could abort: its front-end, always.
    { LD_PRELOAD: shim, PIDSET_FRONTEND: 'libuv' },
  )
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), ['ENOSPC uv_poll_init', 'ENOSPC epoll_ctl', 'exit <4> 0'])
})

test('a child whose exit cannot be watched (epoll_ctl ENOSPC) is killed, reaped and reported as not started', async (t) => {
  const run = await runNode([
    ...faults,
    '-e',
    `const { spawn } = require('./index.js');
    const { readFileSync } = require('node:fs');
    const children = () => readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim();
    (async () => {
      // A first wait makes the poller: the next registration is the child's.
      await spawn('true').exited;
      injectFault('epoll_ctl', 28 /* ENOSPC */, 1);
      const child = spawn('sleep', ['1000'], { timeout: 600000 });
      const err = await child.exited.catch((e) => e);
      console.log(err.code, err.syscall, err.path, child.pid, child.pidfd, child.stdout);
      console.log('children: [' + children() + ']');
      // And the next one starts and is watched as usual.
      const next = spawn('sh', ['-c', 'exit 7']);
      console.log('next', (await next.exited).exitCode);
    })()`,
  ])
  t.is(run.code, 0, run.stderr)
  t.deepEqual(run.stdout.trim().split('\n'), ['ENOSPC spawn sleep sleep undefined null null', 'children: []', 'next 7'])
})
