// killOnParentExit: a spawn() child dies with the process (or worker
// thread) that spawned it, however that ends; a child without it lives on.
import test from 'ava'
import { PidFd, spawn } from '../index'
import { lines, nextLine, ROOT, start } from './helpers'

/** Starts a Node that spawns two sleeps (the first with killOnParentExit) and prints their PIDs. */
function parentOfTwo(t: Parameters<typeof start>[0], inWorker = false): ReturnType<typeof start> {
  const spawnBoth = `
    const { spawn } = require(${JSON.stringify(ROOT)})
    const kept = spawn('sleep', ['100'], { killOnParentExit: true, stdio: 'ignore' })
    const free = spawn('sleep', ['100'], { stdio: 'ignore' })
    kept.unref(); free.unref()
  `
  const script = inWorker
    ? `const { Worker } = require('node:worker_threads')
       const w = new Worker(${JSON.stringify(`${spawnBoth}; require('node:worker_threads').parentPort.postMessage([kept.pid, free.pid]); setInterval(() => {}, 1000)`)}, { eval: true })
       process.on('SIGUSR2', () => w.terminate().then(() => console.log('terminated')))
       w.once('message', (pids) => console.log(pids.join(' ')))
       setInterval(() => {}, 1000)`
    : `${spawnBoth}; console.log(kept.pid, free.pid); setInterval(() => {}, 1000)`
  return start(t, process.execPath, '-e', script)
}

test('the child is SIGKILLed when its parent process is SIGKILLed; one without the option lives on', async (t) => {
  const parent = parentOfTwo(t)
  const reader = lines(parent)
  const [kept, free] = (await nextLine(reader)).split(' ').map(Number)
  const keptFd = PidFd.open(kept)
  const freeFd = PidFd.open(free)
  t.teardown(() => {
    freeFd.kill('SIGKILL')
    freeFd.close()
    keptFd.close()
  })
  parent.proc.kill('SIGKILL')
  await parent.exited
  await keptFd.wait({ timeout: 10_000 })
  t.false(keptFd.isRunning())
  t.true(freeFd.isRunning(), 'the child without killOnParentExit outlives its parent')
})

test('in a worker thread, the child dies when the worker ends, the process still running', async (t) => {
  const host = parentOfTwo(t, true)
  const reader = lines(host)
  const [kept, free] = (await nextLine(reader)).split(' ').map(Number)
  const keptFd = PidFd.open(kept)
  const freeFd = PidFd.open(free)
  t.teardown(() => {
    freeFd.kill('SIGKILL')
    keptFd.kill('SIGKILL')
    freeFd.close()
    keptFd.close()
  })
  t.true(keptFd.isRunning())
  host.proc.kill('SIGUSR2')
  t.is(await nextLine(reader), 'terminated')
  await keptFd.wait({ timeout: 10_000 })
  t.true(freeFd.isRunning())
  t.is(host.proc.exitCode, null, 'the process itself still runs')
})

test('killOnParentExit must be a boolean', (t) => {
  t.throws(() => spawn('true', [], { killOnParentExit: 1 as never }), { code: 'ERR_INVALID_ARG_TYPE' })
})
