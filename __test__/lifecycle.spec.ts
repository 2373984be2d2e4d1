// How handles live with the event loop, the garbage collector, worker
// threads and module loaders; each case runs in a Node process of its own.
import test from 'ava'
import { assertLinesWithChildStatuses, runNode, TIME_SCALE } from './helpers'
import { kernelSupport } from '../index'

const load = "const { PidFd, PidSet } = require('./index.js'); const { spawn } = require('node:child_process');"

test('a script that only opens handles exits on its own', async (t) => {
  const run = await runNode(['-e', `${load}
    const child = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true }); child.unref();
    const pidfd = PidFd.open(child.pid);
    const set = new PidSet([process.pid, child.pid]);
    console.log('opened', pidfd.fd > 0, set.size);
    process.on('exit', () => process.kill(child.pid, 'SIGKILL'));`])
  t.is(run.code, 0, run.stderr)
  t.is(run.stdout.trim(), 'opened true 2')
})

test('a pending wait keeps Node alive until the process exits', async (t) => {
  const run = await runNode(['-e', `${load}
    // The child is unref'd, so only the wait can keep the loop alive.
    const child = spawn('sh', ['-c', 'read line; exit 3'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.unref(); child.stdin.unref?.();
    const pidfd = PidFd.open(child.pid);
    pidfd.wait().then((info) => console.log('exit', info.exitCode));
    setImmediate(() => child.stdin.end('go\\n'));`])
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, [run.stdout.trim()], ['exit <3>'])
})

test('a wait alone keeps Node alive: PidFd, PidSet and spawn(), with no stream or timer to hold the loop', async (t) => {
  // Every child ignores its stdio and lives a while on its own: once the
  // script has run, nothing but the waits is left on the event loop.
  const run = await runNode(['-e', `${load}
    const { spawn: pidsetSpawn } = require('./index.js');
    const other = () => { const c = spawn('sleep', ['0.3'], { stdio: 'ignore' }); c.unref(); return c.pid };
    PidFd.open(other()).wait().then((info) => console.log('PidFd', info.pid > 0));
    new PidSet([other()]).waitAny().then((info) => console.log('PidSet', info.pid > 0));
    pidsetSpawn('sleep', ['0.3'], { stdio: 'ignore' }).exited.then((info) => console.log('spawn', info.exitCode));`])
  t.is(run.code, 0, run.stderr)
  t.deepEqual(run.stdout.trim().split('\n').sort(), ['PidFd true', 'PidSet true', 'spawn 0'])
})

test('unref() lets Node exit while a wait is pending, for PidFd and PidSet', async (t) => {
  const run = await runNode(['-e', `${load}
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' }); child.unref();
    process.on('exit', () => { process.kill(child.pid, 'SIGKILL'); console.log('exited on its own') });
    const pidfd = PidFd.open(child.pid).unref();
    pidfd.wait({ timeout: 600000 }).then(() => console.log('unexpected'));
    const set = new PidSet([child.pid]).unref();
    set.waitAny({ timeout: 600000 }).then(() => console.log('unexpected'));`])
  t.is(run.code, 0, run.stderr)
  t.is(run.stdout.trim(), 'exited on its own')
})

test('ref() after unref() keeps Node alive again', async (t) => {
  const run = await runNode(['-e', `${load}
    const child = spawn('sh', ['-c', 'read line; exit 4'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.unref(); child.stdin.unref?.();
    const pidfd = PidFd.open(child.pid).unref();
    pidfd.wait().then((info) => console.log('exit', info.exitCode));
    pidfd.ref();
    setImmediate(() => child.stdin.end('go\\n'));`])
  t.is(run.code, 0, run.stderr)
  assertLinesWithChildStatuses(t, [run.stdout.trim()], ['exit <4>'])
})

test('garbage-collected handles release their descriptors', async (t) => {
  const run = await runNode(['--expose-gc', '-e', `${load}
    const { readdirSync } = require('node:fs');
    const count = () => readdirSync('/proc/self/fd').length;
    (async () => {
      const before = count();
      (() => { for (let i = 0; i < 500; i++) PidFd.open(process.pid) })();
      const opened = count();
      for (let i = 0; i < 10 && count() > before + 10; i++) {
        globalThis.gc();
        await new Promise((r) => setImmediate(r));
      }
      console.log(JSON.stringify({ before, opened, after: count() }));
    })();`])
  t.is(run.code, 0, run.stderr)
  const { before, opened, after } = JSON.parse(run.stdout) as { before: number; opened: number; after: number }
  t.true(opened >= before + 500, `opened ${opened}, before ${before}`)
  t.true(after <= before + 10, `after ${after}, before ${before}`)
})

test('children spawn() started in a worker that is terminated are still reaped when they exit', async (t) => {
  const run = await runNode(['-e', `${load}
    const { Worker } = require('node:worker_threads');
    const { once } = require('node:events');
    const { readFileSync } = require('node:fs');
    const state = (pid) => { try { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) } catch { return 'gone' } };
    (async () => {
      const worker = new Worker(\`
        const { spawn } = require('./index.js');
        const children = Array.from({ length: 5 }, () => spawn('sleep', ['1000'], { stdio: 'ignore' }));
        require('node:worker_threads').parentPort.postMessage(children.map((c) => c.pid));
      \`, { eval: true });
      const [pids] = await once(worker, 'message');
      const handles = pids.map((pid) => PidFd.open(pid));
      await worker.terminate();
      for (const handle of handles) handle.kill('SIGKILL');
      await Promise.all(handles.map((handle) => handle.wait()));
      // Exited: now reaped by pidset's orphan reaper, a thread of its own,
      // which tells JavaScript nothing: look at /proc until it has (or 5 s, scaled on slow guests).
      const deadline = Date.now() + 5000 * ${TIME_SCALE};
      while (pids.some((pid) => state(pid) === 'Z') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      console.log(pids.map(state).join(' '));
      for (const handle of handles) handle.close();
    })()`])
  t.is(run.code, 0, run.stderr)
  t.is(run.stdout.trim(), 'gone gone gone gone gone', 'no child left a zombie')
})

test('works in worker threads, each with its own handles, and workers end cleanly', async (t) => {
  const run = await runNode(['-e', `${load}
    const { Worker } = require('node:worker_threads');
    const body = \`
      const { PidFd, PidSet } = require('./index.js');
      const { parentPort } = require('node:worker_threads');
      const { spawn } = require('node:child_process');
      const child = spawn('sh', ['-c', 'exit 5']);
      PidFd.open(child.pid).wait().then((info) => parentPort.postMessage(info.exitCode));
    \`;
    const results = [];
    let done = 0;
    for (let i = 0; i < 3; i++) {
      const worker = new Worker(body, { eval: true });
      worker.on('message', (code) => results.push(code));
      worker.on('exit', (code) => { if (++done === 3) console.log(JSON.stringify({ results, code })) });
    }
    // A worker terminated while its wait is pending must not crash Node.
    const stuck = new Worker(\`
      const { PidFd } = require('./index.js');
      const { spawn } = require('node:child_process');
      const child = spawn('sleep', ['1000']);
      PidFd.open(child.pid).wait();
      require('node:worker_threads').parentPort.postMessage(child.pid);
    \`, { eval: true });
    stuck.on('message', (pid) => stuck.terminate().then(() => { process.kill(pid, 'SIGKILL'); console.log('terminated') }));
    const main = spawn('sh', ['-c', 'exit 6']);
    PidFd.open(main.pid).wait().then((info) => console.log('main', info.exitCode));`])
  t.is(run.code, 0, run.stderr)
  const out = run.stdout.trim().split('\n').sort()
  assertLinesWithChildStatuses(t, out, ['main <6>', 'terminated', '{"results":[<5>,<5>,<5>],"code":0}'].sort())
})

test("require('pidset') and import { PidFd } from 'pidset' both work", async (t) => {
  const cjs = await runNode(['-e', "const m = require('pidset'); console.log(typeof m.PidFd.open, typeof m.PidSet)"])
  t.is(cjs.stdout.trim(), 'function function', cjs.stderr)
  const esm = await runNode(['--input-type=module', '-e', "import { PidFd, PidSet } from 'pidset'; import def from 'pidset'; console.log(typeof PidFd.open, typeof PidSet, typeof def.PidFd)"])
  t.is(esm.stdout.trim(), 'function function function', esm.stderr)
})

test('the PidSet example prints each exit as it happens', async (t) => {
  const run = await runNode(['examples/watch-many.mjs'])
  t.is(run.code, 0, run.stderr)
  const lines = run.stdout.trim().split('\n')
  t.regex(lines[0], /^watching 4 processes/)
  // Order is the children's own timing, so only the outcomes are checked.
  const outcomes = lines.slice(1).map((l) => / pid \d+ (.*?)(,| {2})/.exec(l)?.[1] ?? l)
  const expected = ['exited with code 0', 'exited with code 3', 'exited with code 42', 'killed by SIGKILL']
  if (kernelSupport().exitInfo) {
    t.deepEqual([...outcomes].sort(), expected)
  } else {
    // Without PIDFD_INFO_EXIT, libuv may reap a child first (README).
    t.is(outcomes.length, expected.length)
    for (const outcome of outcomes) t.true(outcome === 'exited (status unknown)' || expected.includes(outcome), outcome)
  }
  t.deepEqual(lines.slice(1).map((l) => /\((\d) left\)$/.exec(l)?.[1]), ['3', '2', '1', '0'])
})

test('an unsupported platform gets one clear error naming the supported ones', async (t) => {
  // Pretend to be macOS before pidset loads: napi-rs's loader then finds no binary.
  const run = await runNode([
    '-e',
    `Object.defineProperty(process, 'platform', { value: 'darwin' });
     try { require('pidset'); console.log('loaded') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`,
  ])
  t.is(run.code, 0, run.stderr)
  const err = JSON.parse(run.stdout) as { code: string; message: string }
  t.is(err.code, 'ERR_PIDSET_UNSUPPORTED_PLATFORM')
  t.regex(err.message, /does not support darwin-/)
  t.regex(err.message, /linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, linux-arm64-musl/)
})
