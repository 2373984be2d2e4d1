// Exhaustion and load: the open-files limit reached, thousands of waiters
// on one handle, eight worker threads at once.
import { spawn as cpSpawn } from 'node:child_process'
import { once, setMaxListeners } from 'node:events'
import test from 'ava'
import { PidFd, type ExitInfo } from '../index'
import { assertLinesWithChildStatuses, runNode, TIME_SCALE } from './helpers'

test('EMFILE from open() and add() at the open-files limit; the set keeps working for its other members', async (t) => {
  const script = `
    const { PidFd, PidSet } = require('./index.js');
    const { spawn } = require('node:child_process');
    const { atFdLimit, releaseFds } = require('./__test__/fixtures/fd-limit.cjs');
    process.on('unhandledRejection', (e) => { console.log('unhandled', e.code); process.exit(1) });
    const a = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const b = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const set = new PidSet([a.pid]);
    // The poller exists before the limit is reached: a wait is pending.
    const first = set.waitAny();
    (async () => {
      const open = await atFdLimit(() => PidFd.open(b.pid), (pidfd) => pidfd.close());
      const add = await atFdLimit(() => set.add(b.pid), () => set.delete(b.pid));
      releaseFds();
      for (const [name, { error }] of [['open', open], ['add', add]]) {
        console.log(name, error && error.code, error && error.syscall, error && error.pid === b.pid, set.size);
      }
      a.kill('SIGKILL');
      const info = await first;
      console.log('first', info.pid === a.pid, info.signal);
      set.add(b.pid);
      const second = set.waitAny();
      b.kill('SIGKILL');
      const next = await second;
      console.log('second', next.pid === b.pid, next.signal, set.size);
      set.close();
    })();`
  // Node raises the soft limit to the hard one at start-up: set both.
  const run = await runNode(['-e', `require('node:child_process').execFileSync('sh', ['-c', 'ulimit -n 64 && exec "$0" -e "$1"', process.execPath, ${JSON.stringify(script)}], { stdio: 'inherit', cwd: process.cwd() })`])
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), [
    'open EMFILE pidfd_open true 1',
    'add EMFILE pidfd_open true 1',
    'first true <SIGKILL>',
    'second true <SIGKILL> 0',
  ])
})

test('5,000 waits on one handle settle with the one ExitInfo; 1,000 aborted ones reject and leave it', async (t) => {
  const child = cpSpawn('sleep', ['1000'], { stdio: 'ignore' })
  await once(child, 'spawn')
  const pidfd = PidFd.open(child.pid as number)
  const waits: Array<Promise<ExitInfo>> = []
  for (let i = 0; i < 5000; i++) waits.push(pidfd.wait())
  const abort = new AbortController()
  // 1,000 listeners on one signal are meant here: say so, as Node asks.
  setMaxListeners(1000, abort.signal)
  const aborted: Array<Promise<unknown>> = []
  for (let i = 0; i < 1000; i++) aborted.push(pidfd.wait({ signal: abort.signal }).catch((e: { code?: string }) => e.code))
  abort.abort()
  t.deepEqual(new Set(await Promise.all(aborted)), new Set(['ABORT_ERR']))
  child.kill('SIGKILL')
  const infos = await Promise.all(waits)
  t.true(infos.every((info) => info === infos[0]), 'one frozen ExitInfo for all')
  t.is(infos[0].pid, child.pid as number)
  pidfd.close()
})

test('8 worker threads at once, each watching its own 20 children (half spawn(), half child_process)', async (t) => {
  const run = await runNode(['-e', `
    const { Worker } = require('node:worker_threads');
    const body = \`
      const { PidFd, PidSet, spawn } = require('./index.js');
      const childProcess = require('node:child_process');
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const set = new PidSet();
        const expected = new Map();
        for (let i = 0; i < 20; i++) {
          const code = workerData * 20 + i;
          const script = 'read _; exit ' + code;
          if (i % 2 === 0) {
            const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
            set.add(child.pidfd);
            expected.set(child.pid, code);
            child.stdin.end('go\\\\n');
          } else {
            const child = childProcess.spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
            set.add(PidFd.fromChild(child));
            expected.set(child.pid, code);
            child.stdin.end('go\\\\n');
          }
        }
        const infos = await set.waitAll();
        const wrong = infos.filter((info) => info.exitCode !== expected.get(info.pid) && info.exitCode !== null);
        parentPort.postMessage({ seen: infos.length, wrong: wrong.length, unknown: infos.filter((i) => i.exitCode === null).length });
      })();
    \`;
    const results = [];
    for (let w = 0; w < 8; w++) {
      const worker = new Worker(body, { eval: true, workerData: w });
      worker.on('message', (m) => results.push(m));
      worker.on('error', (e) => { console.log('error', e.message); process.exitCode = 1 });
      worker.on('exit', () => { if (results.length === 8) console.log(JSON.stringify(results)) });
    }`], 60_000)
  t.is(run.code, 0, run.stderr)
  const results = JSON.parse(run.stdout.trim().split('\n').pop() as string) as Array<{ seen: number; wrong: number; unknown: number }>
  t.is(results.length, 8)
  for (const r of results) {
    t.is(r.seen, 20)
    t.is(r.wrong, 0)
  }
})

test('workers terminated with waits pending leave no descriptor behind and do not crash the process', async (t) => {
  const run = await runNode(['-e', `
    const { Worker } = require('node:worker_threads');
    const { readdirSync, readFileSync, readlinkSync } = require('node:fs');
    const { spawn } = require('node:child_process');
    const links = () => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync('/proc/self/fd/' + fd) } catch { return 'gone' } });
    const count = () => links().length;
    const epolls = () => links().filter((l) => l === 'anon_inode:[eventpoll]').length;
    const gone = (pid) => { try { readFileSync('/proc/' + pid + '/stat'); return false } catch { return true } };
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    // libuv's spare descriptor (see openedOnceForGood) comes with the first
    // stream: stdout's, set up here rather than by the console.log below.
    process.stdout;
    sleeper.on('spawn', async () => {
      const before = count();
      const epollsBefore = epolls();
      const body = \`
        const { PidFd, PidSet, spawn } = require('./index.js');
        const { parentPort, workerData } = require('node:worker_threads');
        const handles = Array.from({ length: 50 }, () => PidFd.open(workerData));
        for (const h of handles) h.wait();
        const set = new PidSet([workerData]);
        set.waitAny();
        const own = spawn('sleep', ['1000'], { stdio: 'ignore' });
        parentPort.postMessage(own.pid);
      \`;
      const ownPids = [];
      const workers = Array.from({ length: 4 }, () => new Worker(body, { eval: true, workerData: sleeper.pid }));
      await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', (pid) => { ownPids.push(pid); resolve() }))));
      const during = count();
      await Promise.all(workers.map((w) => w.terminate()));
      // The workers' spawn() children outlive them: killed here, they are
      // reaped by pidset's orphan reaper, a thread that tells JavaScript
      // nothing, so /proc is watched until they are gone (or 5 s).
      for (const pid of ownPids) process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 5000 * ${TIME_SCALE};
      while (!ownPids.every(gone) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      // The reaper's epoll instance, and its thread's duplicate, stay for good.
      console.log(JSON.stringify({ before, during, after: count() - (epolls() - epollsBefore), reaper: epolls() - epollsBefore }));
      sleeper.kill('SIGKILL');
    });`], 60_000)
  t.is(run.code, 0, run.stderr)
  const { before, during, after, reaper } = JSON.parse(run.stdout) as { before: number; during: number; after: number; reaper: number }
  t.true(during >= before + 4 * 52, `during ${during}, before ${before}`)
  t.is(after, before)
  t.is(reaper, 2, "the orphan reaper's epoll descriptor and its thread's duplicate")
})
