'use strict'
// A PidSet watching many processes that are not ours: the cost of adding
// them, of holding them, of idling while they run, and of their exits.
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { PidSet } = require('..')
const { nowUs, delay, quantile } = require('./stats')
const { Spawner, killAll } = require('./processes')

const { readFileSync } = require('node:fs')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const { join } = require('node:path')
const readline = require('node:readline')

/**
 * Starts crates/pidset/benches/last_exit.rs watching `pids`; resolves to a
 * function that, once they are gone, gives the monotonic time (µs) at which
 * that independent observer saw the last exit.
 */
async function lastExitObserver(pids) {
  const proc = spawn('cargo', ['bench', '-q', '-p', 'pidset', '--bench', 'last_exit'], {
    cwd: join(__dirname, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  // Listened for now: the observer may be gone before anyone awaits it.
  const closed = once(proc, 'close')
  const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]()
  proc.stdin.end(`${pids.join('\n')}\n\n`)
  const first = await lines.next()
  if (first.value !== 'ready') throw new Error(`last_exit observer: ${first.value}`)
  return async () => {
    const { value } = await lines.next()
    await closed
    return JSON.parse(value)
  }
}

async function collectGarbage() {
  for (let i = 0; i < 3 && typeof globalThis.gc === 'function'; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Kernel slab memory in bytes: where pidfds and epoll entries live. */
function slabBytes() {
  const line = readFileSync('/proc/meminfo', 'utf8').split('\n').find((l) => l.startsWith('Slab:'))
  return Number(line?.match(/\d+/)?.[0] ?? NaN) * 1024
}

async function memory() {
  await collectGarbage()
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { rss, heap: heapUsed + external + arrayBuffers, slab: slabBytes() }
}

const RESOLUTION_MS = 20

/**
 * CPU (% of one core) while `ms` pass with `work` running, then, in a second
 * window of the same length, the event-loop delay. Two windows, because the
 * delay monitor's own timer would otherwise be most of the CPU measured.
 */
async function idle(ms, work) {
  const stop = work()
  // One-second windows: V8's memory reducer runs one full collection some
  // seconds after the heap grew (seen with --trace-gc: ~40 ms once, after
  // adding 10,000 members), which is V8's doing, not watching; the median
  // window shows the steady state, the total shows everything.
  const perSecond = []
  const cpu0 = process.cpuUsage()
  const t0 = nowUs()
  for (let elapsed = 0; elapsed < ms; elapsed += 1000) {
    const w0 = process.cpuUsage()
    const wt = nowUs()
    await delay(Math.min(1000, ms - elapsed))
    const w = process.cpuUsage(w0)
    perSecond.push((100 * (w.user + w.system)) / (nowUs() - wt))
  }
  const cpu = process.cpuUsage(cpu0)
  const wall = nowUs() - t0
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  await delay(ms)
  histogram.disable()
  stop()
  // The monitor records whole timer intervals; the delay is what exceeds one.
  const late = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
  return {
    cpuPercent: (100 * (cpu.user + cpu.system)) / wall,
    cpuPercentMedianSecond: quantile(perSecond, 0.5),
    loopDelayP99Ms: late(histogram.percentile(99)),
    loopDelayMaxMs: late(histogram.max),
  }
}

/** Polls every PID with kill(pid, 0) every 100 ms: what polling packages cost. */
function pollAll(pids) {
  return () => {
    const timer = setInterval(() => {
      for (const pid of pids) {
        try {
          process.kill(pid, 0)
        } catch {}
      }
    }, 100)
    return () => clearInterval(timer)
  }
}

async function measureScale(count, idleMs, log) {
  const spawner = new Spawner()
  let pids = []
  try {
    log(`  starting ${count} processes...`)
    pids = await spawner.start(count)
    const before = await memory()
    const addStart = nowUs()
    const set = new PidSet(pids)
    const addMs = (nowUs() - addStart) / 1000
    const after = await memory()
    const all = set.waitAll()
    const lastExit = await lastExitObserver(pids)
    // Let the start-up garbage settle before measuring idleness.
    await collectGarbage()
    await delay(1000)

    log(`  idle ${idleMs / 1000} s with pidset, then with polling...`)
    const watching = await idle(idleMs, () => () => {})
    const polling = await idle(idleMs, pollAll(pids))

    log('  killing them all...')
    const cpu0 = process.cpuUsage()
    const killed = nowUs()
    spawner.killGroup()
    const exits = await all
    const settled = nowUs()
    const cpu = process.cpuUsage(cpu0)
    const { last_exit_us: lastExitUs, last_reap_us: lastReapUs } = await lastExit()
    set.close()
    return {
      processes: count,
      addMs,
      addUsPerProcess: (addMs * 1000) / count,
      rssBytesPerProcess: (after.rss - before.rss) / count,
      heapBytesPerProcess: (after.heap - before.heap) / count,
      // System-wide, so other activity shows up here too.
      kernelSlabBytesPerProcess: (after.slab - before.slab) / count,
      idle: watching,
      pollingEvery100ms: polling,
      // One kill(2) for all of them: this is the kernel tearing 10,000
      // processes down on 2 cores, and pidset reporting each exit.
      killToSettledMs: (settled - killed) / 1000,
      nodeCpuMsWhileExiting: (cpu.user + cpu.system) / 1000,
      nodeCpuUsPerExit: (cpu.user + cpu.system) / count,
      // When an independent Rust observer saw the last process go, relative
      // to the kill and to waitAll() settling (negative: settled first).
      lastExitAfterKillMs: (lastExitUs - killed) / 1000,
      settledAfterLastExitMs: (settled - lastExitUs) / 1000,
      // And when it saw the last one reaped by its new parent (their shell
      // dies with them): the status of each is known only then.
      lastReapAfterLastExitMs: (lastReapUs - lastExitUs) / 1000,
      settledAfterLastReapMs: (settled - lastReapUs) / 1000,
      exitsReported: exits.length,
    }
  } finally {
    killAll(pids)
    spawner.close()
  }
}

module.exports = { measureScale }
