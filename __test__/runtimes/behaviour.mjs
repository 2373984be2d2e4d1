// The runtime-neutral behaviour suite: what pidset promises, checked the
// same way under Node, Bun and Deno (run.sh runs it under each; ava cannot
// run under Bun or Deno). Every check runs against real processes. Exits 0
// when every check holds, else prints the failures and exits 1.
import { createRequire } from 'node:module'
import { spawn as cpSpawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const { PidFd, PidSet, spawn, kernelSupport } = require('../..')

const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : `Node ${process.version}`
const frontEnd = process.env.PIDSET_FRONTEND || 'default'
console.log(`pidset behaviour under ${runtime} (front-end: ${frontEnd})`)

const failures = []
let checks = 0
function check(what, ok, detail = '') {
  checks++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail !== '' ? `: ${detail}` : ''}`)
  if (!ok) failures.push(what)
}
const codeOf = (fn) => {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return err.code
  }
}
const settle = (promise) => promise.then((value) => ({ value }), (err) => ({ err }))
process.on('unhandledRejection', (err) => check('no unhandled rejection', false, String(err?.stack ?? err)))

/** A child_process `sh -c script` that exits when told (its stdin closes). */
async function waiter(script) {
  const child = cpSpawn('sh', ['-c', `read line; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] })
  await once(child, 'spawn')
  return { child, pid: child.pid, release: () => child.stdin.end('go\n') }
}

/** Runs this runtime on `file` (a fixture) and returns its stdout and status. */
function runSelf(file, env = {}) {
  const args = globalThis.Deno ? ['run', '--allow-all', file] : [file]
  const ran = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 })
  return { status: ran.status, stdout: ran.stdout.trim(), stderr: ran.stderr }
}

/** `count()` once it is at most `target`, or its last value after `limitMs`. */
async function settledCount(count, target, limitMs) {
  const deadline = Date.now() + limitMs
  let value = count()
  while (value > target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    value = count()
  }
  return value
}

/** The names of this process's threads. */
function threads() {
  return readdirSync('/proc/self/task').map((task) => {
    try {
      return readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim()
    } catch {
      return ''
    }
  })
}

check('kernelSupport()', kernelSupport().pidfdOpen === true)
/** A child_process child's status: always known where the kernel keeps it after the reap (6.15+), else it may be null. */
const statusIs = (actual, expected) => actual === expected || (!kernelSupport().exitInfo && actual === null)

// -- PidFd: open, wait, tryWait, kill, info, close
{
  const w = await waiter('exit 7')
  const handle = PidFd.open(w.pid)
  check('PidFd.open()', handle.pid === w.pid && handle.fd >= 0)
  check('isRunning() and tryWait() while it runs', handle.isRunning() === true && handle.tryWait() === null)
  check('info()', handle.info().pid === w.pid && handle.info().ppid === process.pid)
  const waits = [handle.wait(), handle.wait()]
  w.release()
  const [a, b] = await Promise.all(waits)
  check('wait() settles with the exit code; two waits, the same exit', statusIs(a.exitCode, 7), JSON.stringify({ exitCode: a.exitCode, signal: a.signal }))
  check('two waits see equal exits', JSON.stringify(a) === JSON.stringify(b))
  check('kill() after the exit sends nothing', handle.kill('SIGKILL') === false)
  handle.close()
  check('close()', handle.closed && handle.fd === -1)
}
{
  const w = await waiter('exit 0')
  const handle = PidFd.open(w.pid)
  const pending = settle(handle.wait())
  handle.close()
  check('close() rejects a pending wait with EBADF', (await pending).err?.code === 'EBADF')
  check('a closed handle: EBADF', codeOf(() => handle.tryWait()) === 'EBADF' && (await settle(handle.wait())).err?.code === 'EBADF')
  w.release()
}

// -- kill through the handle, signal reported
{
  const w = await waiter('exit 0')
  const handle = PidFd.open(w.pid)
  const wait = handle.wait()
  check('kill(SIGTERM) is sent', handle.kill('SIGTERM') === true)
  const info = await wait
  check('wait() reports the signal', statusIs(info.signal, 'SIGTERM'), String(info.signal))
  handle.close()
}

// -- timeouts and AbortSignal
{
  const w = await waiter('exit 0')
  const handle = PidFd.open(w.pid)
  const timedOut = await settle(handle.wait({ timeout: 20 }))
  check('wait({ timeout }) rejects ETIMEDOUT', timedOut.err?.code === 'ETIMEDOUT', timedOut.err?.code)
  const controller = new AbortController()
  const aborted = settle(handle.wait({ signal: controller.signal }))
  controller.abort(new Error('stop'))
  const result = await aborted
  check('wait({ signal }) rejects AbortError with the reason as cause', result.err?.name === 'AbortError' && result.err?.cause?.message === 'stop')
  check('neither closes the handle; a later wait works', handle.isRunning())
  const later = handle.wait()
  w.release()
  check('later wait settles', (await later).pid === w.pid)
  handle.close()
}

// -- PidSet: waitAny, waitAll, iteration, timeouts
{
  const ws = await Promise.all([3, 4, 5].map((code) => waiter(`exit ${code}`)))
  const set = new PidSet(ws.map((w) => w.pid))
  check('new PidSet(pids)', set.size === 3)
  const timedOut = await settle(set.waitAny({ timeout: 20 }))
  check('set.waitAny({ timeout }) rejects ETIMEDOUT and removes nothing', timedOut.err?.code === 'ETIMEDOUT' && set.size === 3)
  const any = set.waitAny()
  ws[1].release()
  const first = await any
  check('waitAny() reports the first to exit, which leaves the set', first.pid === ws[1].pid && set.size === 2)
  const all = set.waitAll()
  // One after the other: the second is released once the first has gone.
  ws[2].release()
  await once(ws[2].child, 'exit')
  ws[0].release()
  const rest = await all
  check('waitAll() reports the rest, in exit order', rest.map((i) => i.pid).join() === [ws[2].pid, ws[0].pid].join(), rest.map((i) => i.pid).join())
  set.close()

  const more = await Promise.all([1, 2].map((code) => waiter(`exit ${code}`)))
  const iterated = new PidSet(more.map((w) => w.pid))
  const seen = []
  more[0].release()
  more[1].release()
  for await (const info of iterated) seen.push(info.pid)
  check('for await over a set yields every exit once', seen.sort().join() === more.map((w) => w.pid).sort().join())
  iterated.close()
}

// -- spawn: exited, output, input, kill, timeout, dispose
{
  const child = spawn('sh', ['-c', 'echo out; echo err >&2; exit 3'])
  const { stdout, stderr, exit } = await child.output()
  check('spawn().output(): streams and exit', stdout === 'out\n' && stderr === 'err\n' && exit.exitCode === 3, JSON.stringify({ stdout, stderr, code: exit.exitCode }))
  check('spawned child: rusage', exit.rusage !== null && typeof exit.rusage.userCPUTime === 'number')

  const echo = spawn('cat', [], { input: 'fed\n' })
  check('input reaches stdin', (await echo.output()).stdout === 'fed\n')

  const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' })
  check('kill() through the child', sleeper.kill('SIGKILL') === true)
  check('exited reports the signal', (await sleeper.exited).signal === 'SIGKILL')

  const slow = spawn('sleep', ['1000'], { stdio: 'ignore', timeout: 30 })
  const timed = await slow.exited
  check('timeout kills the child (timedOut)', timed.signal === 'SIGTERM' && slow.timedOut === true)

  const missing = await settle(spawn('/nonexistent/program').exited)
  check('a program that cannot start rejects ENOENT', missing.err?.code === 'ENOENT', missing.err?.code)

  const disposed = spawn('sleep', ['1000'], { stdio: 'ignore' })
  await disposed[Symbol.asyncDispose]()
  check('asyncDispose kills and reaps', (await disposed.exited).signal !== null)

  const set = new PidSet()
  const children = Array.from({ length: 20 }, (_, i) => spawn('sh', ['-c', `exit ${i % 5}`], { stdio: 'ignore' }))
  for (const c of children) set.add(c.pidfd)
  const exits = await set.waitAll()
  check('20 spawned children through a PidSet', exits.length === 20 && exits.every((e) => e.exitCode === children.findIndex((c) => c.pid === e.pid) % 5))
  set.close()
}

// -- keep-alive: a pending wait keeps the runtime; an unreferenced one does not
{
  const kept = runSelf(join(here, 'keep-alive.mjs'), { PIDSET_KEEP: 'ref' })
  check('a pending wait keeps the runtime alive until the exit', kept.status === 0 && kept.stdout === 'exit 3\nend', JSON.stringify(kept))
  const left = runSelf(join(here, 'keep-alive.mjs'), { PIDSET_KEEP: 'unref' })
  const [line, pid] = left.stdout.split(' ')
  check('an unreferenced wait lets the runtime exit', left.status === 0 && line === 'end', JSON.stringify(left))
  if (pid) process.kill(Number(pid), 'SIGKILL')
}

// -- workers: each has its own handles; terminating one stops its thread
{
  const { Worker } = await import('node:worker_threads')
  const before = threads().filter((n) => n === 'pidset-exits').length
  const worker = new Worker(join(here, 'worker.mjs'))
  // Listened to from the start: a worker that exits right after posting has
  // its message delivered as it exits, in the same callback as 'exit', so a
  // listener added once the message is read would miss it.
  const exited = once(worker, 'exit')
  const [message] = await once(worker, 'message')
  check('a worker waits for its own child', message === 'exit 6', String(message))
  await exited
  const pending = new Worker(join(here, 'worker.mjs'), { workerData: 'pending' })
  await once(pending, 'message')
  await pending.terminate()
  // A runtime may finish tearing a worker down after terminate() settles
  // (Deno does): no event says when, so look until its thread is gone.
  const after = await settledCount(() => threads().filter((n) => n === 'pidset-exits').length, before, 10_000)
  check('a terminated worker leaves no exit thread behind', after <= before, `${before} before, ${after} after`)
  const still = await spawn('sh', ['-c', 'exit 2'], { stdio: 'ignore' }).exited
  check('the main thread still waits after', still.exitCode === 2)
}

if (failures.length > 0) {
  console.log(`${failures.length} of ${checks} checks failed under ${runtime}`)
  process.exit(1)
}
console.log(`all ${checks} checks passed under ${runtime}`)
