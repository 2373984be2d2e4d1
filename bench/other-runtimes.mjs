// Kill-to-notification latency under Bun or Deno, in one process of that
// runtime: pidset against the runtime's own way of waiting for a child.
// Prints one JSON line: { runtime, trials, rows: { key: { method, n, p50, p99 } } }.
// Run by bench/run.js (usage: <runtime> other-runtimes.mjs TRIALS).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { PidFd, spawn } = require('..')
const { summary } = require('./stats')

const trials = Number(process.argv[2] ?? (globalThis.Deno ? globalThis.Deno.args[0] : undefined) ?? 100)
const now = () => Number(process.hrtime.bigint()) / 1000
const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 5))

/** The runtime's own child: its pid, its own exit promise, and a kill. */
function runtimeChild() {
  if (globalThis.Bun) {
    const child = globalThis.Bun.spawn(['sleep', '1000'], { stdio: ['ignore', 'ignore', 'ignore'] })
    return { pid: child.pid, exited: child.exited }
  }
  const child = new globalThis.Deno.Command('sleep', { args: ['1000'], stdin: 'null', stdout: 'null', stderr: 'null' }).spawn()
  return { pid: child.pid, exited: child.status }
}

const runtimeName = globalThis.Bun ? 'Bun' : 'Deno'
const nativeLabel = globalThis.Bun ? 'Bun.spawn().exited' : "Deno.Command's status"

/** Each way: start a sleep, arm the wait, and say when it is learned. */
const METHODS = {
  native: {
    method: nativeLabel,
    async arm() {
      const child = runtimeChild()
      return { pid: child.pid, learned: child.exited.then(now), gone: child.exited }
    },
  },
  pidfd: {
    method: `PidFd.wait() on the ${runtimeName} child`,
    async arm() {
      const child = runtimeChild()
      const pidfd = PidFd.open(child.pid)
      return { pid: child.pid, learned: pidfd.wait().then(now), gone: child.exited, done: () => pidfd.close() }
    },
  },
  spawn: {
    method: "pidset's spawn().exited",
    async arm() {
      const child = spawn('sleep', ['1000'], { stdio: 'ignore' })
      return { pid: child.pid, learned: child.exited.then(now), gone: child.exited }
    },
  },
}

const samples = Object.fromEntries(Object.keys(METHODS).map((k) => [k, []]))
for (let i = 0; i < trials; i++) {
  for (const [key, way] of Object.entries(METHODS)) {
    const armed = await way.arm()
    await pause()
    const killed = now()
    process.kill(armed.pid, 'SIGKILL')
    samples[key].push((await armed.learned) - killed)
    armed.done?.()
    await armed.gone
  }
}
const version = globalThis.Bun ? globalThis.Bun.version : globalThis.Deno.version.deno
const rows = Object.fromEntries(Object.entries(METHODS).map(([key, way]) => [key, { method: way.method, ...summary(samples[key]) }]))
console.log(JSON.stringify({ runtime: `${runtimeName} ${version}`, trials, rows }))
process.exit(0)
