'use strict'
// Pending waits must not occupy libuv's threadpool (4 threads): fs, dns and
// crypto would queue behind them. fs.promises.stat goes through that pool;
// its latency is measured in alternating rounds without and with many
// pending PidFd.wait() calls, so that drift on a shared machine hits both.
const { stat } = require('node:fs/promises')
const { PidFd } = require('..')
const { setMaxListeners } = require('node:events')
const { nowUs, summary } = require('./stats')
const { Spawner } = require('./processes')

/** Latencies (µs) of `count` rounds of 8 concurrent stats: twice the pool. */
async function statRounds(count) {
  const times = []
  for (let i = 0; i < count; i++) {
    const t0 = nowUs()
    await Promise.all(Array.from({ length: 8 }, () => stat(__filename)))
    times.push(nowUs() - t0)
  }
  return times
}

async function measureThreadpool(pending, samples) {
  const spawner = new Spawner()
  try {
    const handles = (await spawner.start(pending)).map((pid) => PidFd.open(pid))
    await statRounds(samples) // warm-up
    const idle = []
    const loaded = []
    // A collection before each block, so that the garbage of setting up
    // 1,000 waits is not collected inside the blocks that measure them
    // (npm run bench runs with --expose-gc).
    const collect = () => globalThis.gc?.()
    for (let round = 0; round < 5; round++) {
      collect()
      idle.push(...(await statRounds(samples / 5)))
      const controller = new AbortController()
      // One signal shared by every pending wait: say so, as Node's own APIs
      // ask, so that the run prints no MaxListenersExceededWarning.
      setMaxListeners(handles.length, controller.signal)
      const waits = handles.map((h) => h.wait({ signal: controller.signal }).catch(() => {}))
      collect()
      loaded.push(...(await statRounds(samples / 5)))
      controller.abort()
      await Promise.all(waits)
    }
    for (const h of handles) h.close()
    const baseline = summary(idle)
    const withPendingWaits = summary(loaded)
    return { pendingWaits: pending, statsPerRound: 8, baseline, withPendingWaits, p50Ratio: withPendingWaits.p50 / baseline.p50 }
  } finally {
    spawner.close()
  }
}

module.exports = { measureThreadpool }
