// The exit path with a system call made to fail (the fault-injection build,
// target/faults): each case once lost an exit, hung a wait, or left
// something behind. The core's own fault tests are crates/pidset/tests/faults.rs.
import test from 'ava'
import { LOAD_PIDSET, assertLinesWithChildStatuses, builtFixture, runNode, testUnless } from './helpers'

const faults = ['-r', './__test__/fixtures/faults.cjs']

test('EMFILE on the first wait rejects it, leaks nothing and keeps later waits working', async (t) => {
  // Node raises the soft limit to the hard one at start-up: set both.
  const script = `${LOAD_PIDSET}
    const { fillFdTable, releaseFds } = require('./__test__/fixtures/fd-limit.cjs');
    process.on('unhandledRejection', (e) => { console.log('unhandled', e.code); process.exit(1) });
    const child = spawn('sh', ['-c', 'read line; exit 3'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.unref(); child.stdin.unref?.();
    const pidfd = PidFd.open(child.pid);
    fillFdTable();
    pidfd.wait({ timeout: 50 }).then(() => console.log('unexpected'), (e) => {
      console.log(e.code, e.errno, e.syscall);
      releaseFds();
      pidfd.wait().then((info) => console.log('exit', info.exitCode));
      child.stdin.end('go\\n');
    });`
  const command = ['-e', `require('node:child_process').execFileSync('sh', ['-c', 'ulimit -n 64 && exec "$0" -e "$1"', process.execPath, ${JSON.stringify(script)}], { stdio: 'inherit', cwd: process.cwd() })`]
  // A wait that timed out found a slot that another thread freed after the
  // fill (fixtures/fd-limit.cjs says which): that run proves nothing about
  // pidset, and the poller it created stays, so the process runs again.
  let run = await runNode(command)
  for (let spoiled = 0; spoiled < 3 && run.stdout.startsWith('ETIMEDOUT '); spoiled++) run = await runNode(command)
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), ['EMFILE -24 epoll_create1', 'exit <3>'])
})

test('waitid failing during dispatch rejects the waits of the PidFd and of its sets, and both can wait again', async (t) => {
  const run = await runNode([...faults, '-e', `${LOAD_PIDSET}
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
  const run = await runNode([...faults, '-e', `${LOAD_PIDSET}
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

test('AbortSignal methods that throw cannot leave timers behind or drop exits', async (t) => {
  const run = await runNode(['-e', `${LOAD_PIDSET}
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

const enospcShim = builtFixture('enospc-shim', 'library')

testUnless(enospcShim ? null : 'needs a C compiler (cc) for the epoll_ctl shim')('fs.epoll.max_user_watches running out gives ENOSPC errors, never a libuv abort', async (t) => {
  // The shim makes every new registration through libc fail as the kernel
  // does at the limit, while PIDSET_TEST_ENOSPC is set (see the shim).
  const shim = enospcShim ?? ''
  const run = await runNode(
    [...faults, '-e', `${LOAD_PIDSET}
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
