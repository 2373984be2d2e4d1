// The two front-ends of the exit engine (crates/pidset-node/src/poller.rs):
// Node's libuv loop and the portable one (a thread and a threadsafe
// function) that Bun and Deno use. The whole suite also runs through the
// portable one (PIDSET_FRONTEND=portable in .ci/run); these are the cases
// that differ between them, or that only a fault can reach.
import test from 'ava'
import { assertLinesWithChildStatuses, runNode } from './helpers'

const FRONT_ENDS = ['libuv', 'portable'] as const
const faults = ['-r', './__test__/fixtures/faults.cjs']
/** The names of this process's threads, as the script's `threads()`. */
const threads = "const threads = () => require('node:fs').readdirSync('/proc/self/task').map((t) => require('node:fs').readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim());"

for (const frontEnd of FRONT_ENDS) {
  test(`${frontEnd}: a batch that fails to reach JavaScript (a Node-API call fails) is delivered on a later turn`, async (t) => {
    const run = await runNode(
      [
        ...faults,
        '-e',
        `const { PidFd, PidSet, spawn } = require('./index.js');
        (async () => {
          await spawn('true').exited; // the poller exists
          const child = spawn('sh', ['-c', 'read line; exit 5'], { stdio: ['pipe', 'ignore', 'ignore'] });
          const pidfd = PidFd.open(child.pid);
          const set = new PidSet([PidFd.open(child.pid)]);
          const settled = [pidfd.wait(), set.waitAny(), child.exited].map((p) => p.then((i) => 'exit ' + i.exitCode, (e) => e.code));
          injectFault('napi_make_callback', 9 /* napi_generic_failure */, 1);
          child.stdin.end('go\\n');
          console.log((await Promise.all(settled)).join(' | '));
        })();`,
      ],
      20_000,
      { PIDSET_FRONTEND: frontEnd },
    )
    t.is(run.code, 0, run.stderr)
    assertLinesWithChildStatuses(t, run.stdout.trim().split('\n'), ['exit <5> | exit <5> | exit 5'])
  })

  test(`${frontEnd}: a referenced wait keeps the process until the exit; an unreferenced one does not`, async (t) => {
    const kept = await runNode(
      [
        '-e',
        `const { spawn } = require('./index.js');
        const child = spawn('sh', ['-c', 'read line; exit 3'], { stdio: ['pipe', 'ignore', 'ignore'] });
        child.exited.then((i) => console.log('exit', i.exitCode));
        // Nothing but the wait keeps the process alive once stdin is closed.
        setImmediate(() => child.stdin.end('go\\n'));
        process.on('exit', () => console.log('process exit'));`,
      ],
      20_000,
      { PIDSET_FRONTEND: frontEnd },
    )
    t.is(kept.code, 0, kept.stderr)
    t.deepEqual(kept.stdout.trim().split('\n'), ['exit 3', 'process exit'])
    const unreferenced = await runNode(
      [
        '-e',
        `const { spawn } = require('./index.js');
        const child = spawn('sleep', ['1000'], { stdio: 'ignore' }).unref();
        child.exited.then(() => console.log('exit'));
        process.on('exit', () => console.log('process exit', child.pid));`,
      ],
      20_000,
      { PIDSET_FRONTEND: frontEnd },
    )
    t.is(unreferenced.code, 0, unreferenced.stderr)
    const [line, pid] = unreferenced.stdout.trim().split(/ (?=\d+$)/)
    t.is(line, 'process exit')
    // The orphaned sleep is the test's to end.
    process.kill(Number(pid), 'SIGKILL')
  })
}

test('PIDSET_FRONTEND picks the front-end: a thread of its own only for the portable one', async (t) => {
  const script = `${threads} const { spawn } = require('./index.js');
    spawn('true').exited.then(() => console.log(threads().filter((n) => n === 'pidset-exits').length));`
  const counts: Record<string, string> = {}
  for (const frontEnd of [...FRONT_ENDS, '']) {
    const run = await runNode(['-e', script], 20_000, { PIDSET_FRONTEND: frontEnd })
    t.is(run.code, 0, run.stderr)
    counts[frontEnd || 'default'] = run.stdout.trim()
  }
  t.deepEqual(counts, { libuv: '0', portable: '1', default: '0' })
})

test('PIDSET_FRONTEND with an unknown value: waits reject with ERR_INVALID_ARG_VALUE naming it', async (t) => {
  const run = await runNode(
    ['-e', `const { PidFd } = require('./index.js'); PidFd.open(process.pid).wait().catch((e) => console.log(e.code, e.message))`],
    20_000,
    { PIDSET_FRONTEND: 'uv' },
  )
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /^ERR_INVALID_ARG_VALUE .*'process\.env\.PIDSET_FRONTEND' must be 'libuv' or 'portable'\. Received 'uv'/)
})

test('portable: a worker terminated with waits pending stops its thread and leaves the process working', async (t) => {
  const run = await runNode(
    [
      '-e',
      `${threads} const { Worker } = require('node:worker_threads');
      const { spawn } = require('./index.js');
      const body = "const { spawn } = require(process.cwd() + '/index.js'); const { parentPort } = require('node:worker_threads');" +
        "const c = spawn('sleep', ['1000']); c.exited; parentPort.postMessage(c.pid);";
      (async () => {
        const workers = Array.from({ length: 3 }, () => new Worker(body, { eval: true }));
        await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
        const during = threads().filter((n) => n === 'pidset-exits').length;
        await Promise.all(workers.map((w) => w.terminate()));
        const after = threads().filter((n) => n === 'pidset-exits').length;
        const exit = await spawn('sh', ['-c', 'exit 4']).exited;
        console.log(during, after, exit.exitCode);
      })();`,
    ],
    20_000,
    { PIDSET_FRONTEND: 'portable' },
  )
  t.is(run.code, 0, run.stderr)
  // Three workers' threads while they wait; none left once they are gone
  // (the main thread's own appears with its first wait, after).
  t.is(run.stdout.trim(), '3 0 4')
})

test('a runtime with neither libuv nor threadsafe functions: waits reject ERR_PIDSET_UNSUPPORTED_RUNTIME, nothing starts, the rest works', async (t) => {
  // Imitated under Node: the portable front-end, its threadsafe function refused.
  const run = await runNode(
    [
      ...faults,
      '-e',
      `const { PidFd, spawn } = require('./index.js');
      injectFault('napi_create_threadsafe_function', 9 /* napi_generic_failure */, 1000);
      (async () => {
        const self = PidFd.open(process.pid);
        const waited = await self.wait().catch((e) => e.code);
        const child = spawn('true');
        const spawned = await child.exited.catch((e) => e.code);
        console.log(waited, spawned, child.pid, self.isRunning());
      })();`,
    ],
    20_000,
    { PIDSET_FRONTEND: 'portable' },
  )
  t.is(run.code, 0, run.stderr)
  t.is(run.stdout.trim(), 'ERR_PIDSET_UNSUPPORTED_RUNTIME ERR_PIDSET_UNSUPPORTED_RUNTIME undefined true')
})
