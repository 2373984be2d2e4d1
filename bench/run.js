'use strict'
// npm run bench [-- --quick]: every measurement side by side in one run.
// Prints tables of medians, p99s and ratios, and writes JSON (and, for a
// full run, the SVG chart) so that runs can be compared.
const os = require('node:os')
const { writeFileSync } = require('node:fs')
const { join } = require('node:path')
const { measure, measureFloor, closeSpawner } = require('./latency')
const { measureEntry } = require('./entry')
const { measureCrowd } = require('./crowd')
const { measureScale } = require('./scale')
const { measureThreadpool } = require('./threadpool')
const { measureSpawn, measureSpawnWithBallast } = require('./spawn')
const { measureMassExit } = require('./mass-exit')
const { measureOtherRuntimes } = require('./other-runtimes')
const { measureTrees, GRACE_MS } = require('./trees')
const { latencyChart } = require('./chart')
const { explain, MIN_P99_SAMPLES } = require('./rows')

const quick = process.argv.includes('--quick')
const PLAN = quick
  ? { trials: 40, pollTrials: 10, crowd: [0, 500], crowdTrials: 30, scale: 1000, idleMs: 2000, pending: 200, spawnTrials: 40, ballastMiB: 256, massExit: 500, massExitRounds: 1, runtimeTrials: 30, trees: [[2, 3], [2, 10]], treeRounds: 1 }
  : { trials: 300, pollTrials: 60, crowd: [0, 1000, 3000], crowdTrials: 200, scale: 10_000, idleMs: 10_000, pending: 1000, spawnTrials: 300, ballastMiB: 1024, massExit: 2000, massExitRounds: 5, runtimeTrials: 200, trees: [[2, 3], [2, 10], [3, 10]], treeRounds: 3 }

const log = (line) => process.stderr.write(`${line}\n`)
const us = (v) => `${v.toFixed(0)} µs`
/** A row's p99, or a mark where it has too few samples to mean much. */
const p99 = (r) => (r.n >= MIN_P99_SAMPLES ? us(r.p99) : `(n < ${MIN_P99_SAMPLES})`)
/** The ratio of two rows' p99s, where both have enough samples. */
const p99Ratio = (a, b) => (a.n >= MIN_P99_SAMPLES && b.n >= MIN_P99_SAMPLES ? `${(a.p99 / b.p99).toFixed(2)}×` : '—')

function latencyTable(rows, base, exit) {
  const lines = ["| method | n | p50 | p99 | p50 vs PidFd.wait() | p50 vs 'exit' |", '|---|---|---|---|---|---|']
  for (const r of rows) {
    lines.push(`| ${r.method} | ${r.n} | ${us(r.p50)} | ${p99(r)} | ${(r.p50 / base.p50).toFixed(2)}× | ${(r.p50 / exit.p50).toFixed(2)}× |`)
  }
  return lines.join('\n')
}

/** Each spawn row against child_process's row of the same shape. */
function spawnTable(rows) {
  const lines = ['| method | n | p50 | p99 | p50 vs child_process | p99 vs child_process |', '|---|---|---|---|---|---|']
  for (const [key, r] of Object.entries(rows)) {
    const cp = key.endsWith('Pipe') ? rows.cpPipe : rows.cpIgnore
    lines.push(`| ${r.method} | ${r.n} | ${us(r.p50)} | ${p99(r)} | ${(r.p50 / cp.p50).toFixed(2)}× | ${p99Ratio(r, cp)} |`)
  }
  return lines.join('\n')
}

async function main() {
  const started = Date.now()
  const machine = {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    openFilesLimit: '(see /proc/self/limits; Node raises the soft limit to the hard one)',
  }
  log(`pidset benchmarks (${machine.mode}) on ${machine.cpus}, Linux ${machine.kernel}, Node ${machine.node}`)

  log('latency, no other children...')
  const latency = await measure(['pidfd', 'pidfdForeign', 'pidset', 'exit', 'poll10'], PLAN.trials)
  // Each of these takes 100 ms or more a trial: fewer trials.
  Object.assign(latency, await measure(['pidfdForeignNoReap', 'poll100'], PLAN.pollTrials))
  Object.assign(latency, measureFloor(PLAN.trials), measureFloor(PLAN.trials, true))

  log('where the time goes: kill to the first JavaScript of each exit callback...')
  const entry = measureEntry(PLAN.trials)

  log('spawn-to-exit round trip of `true`...')
  const spawnRoundTrip = await measureSpawn(PLAN.spawnTrials)
  log(`... and from a Node process with ${PLAN.ballastMiB} MiB more memory in use...`)
  const spawnRoundTripBig = await measureSpawnWithBallast(PLAN.spawnTrials, PLAN.ballastMiB)

  log('latency with other live children...')
  const crowd = await measureCrowd(PLAN.crowd, ['pidfd', 'pidfdForeign', 'pidset', 'exit'], PLAN.crowdTrials, log)
  closeSpawner()

  log(`scale: a PidSet of ${PLAN.scale} processes...`)
  const scale = await measureScale(PLAN.scale, PLAN.idleMs, log)

  log(`threadpool: fs.promises.stat with ${PLAN.pending} pending waits...`)
  const threadpool = await measureThreadpool(PLAN.pending, 300)

  log(`mass exits: ${PLAN.massExit} own children ending at once, ${PLAN.massExitRounds} round(s)...`)
  const massExit = measureMassExit(PLAN.massExit, PLAN.massExitRounds, log)

  log(`killing process trees: ${PLAN.trees.map(([d, f]) => `depth ${d} × fanout ${f}`).join(', ')}, ${PLAN.treeRounds} round(s)...`)
  const trees = measureTrees(PLAN.trees, PLAN.treeRounds, log)

  log('Bun and Deno: kill-to-notification latency against their own child waits...')
  const otherRuntimes = measureOtherRuntimes(PLAN.runtimeTrials, log)

  const results = { machine, plan: PLAN, latency, entry, spawnRoundTrip, spawnRoundTripBig, crowd, scale, threadpool, massExit, trees, otherRuntimes, seconds: (Date.now() - started) / 1000 }
  const base = latency.pidfd
  const out = []
  out.push(`## Latency, kill(SIGKILL) to notification, no other children\n`)
  out.push(latencyTable(Object.values(latency), base, latency.exit))
  out.push('', explain(Object.keys(latency)))
  out.push(`\n## Where the time goes: kill to the first JavaScript of the callback that reports the exit (async_hooks 'before'), then to user code\n`)
  out.push('| callback | n | kill → callback entered, p50 | p99 | entered → user code, p50 (async_hooks on) |', '|---|---|---|---|---|')
  for (const r of Object.values(entry)) out.push(`| ${r.method} | ${r.entry.n} | ${us(r.entry.p50)} | ${p99(r.entry)} | ${us(r.js.p50)} |`)
  out.push('', '- Each row times, in a Node process of its own, from the SIGKILL to the first JavaScript of the callback that reports the exit, then to the user code it resolves.')
  out.push(`\n## Spawn-to-exit round trip of \`true\`\n`)
  out.push(spawnTable(spawnRoundTrip))
  out.push('', explain(Object.keys(spawnRoundTrip)))
  out.push(`\nThe same from a Node process with ${PLAN.ballastMiB} MiB more memory in use:\n`)
  out.push(spawnTable(spawnRoundTripBig))
  out.push(`\n## Latency with other live children (p50 / p99)\n`)
  out.push(`| other children | ${Object.values(crowd[0].latency).map((r) => r.method).join(' | ')} | 'exit' p50 vs PidFd.wait() |`)
  out.push(`|---|${Object.keys(crowd[0].latency).map(() => '---|').join('')}---|`)
  for (const c of crowd) {
    const cells = Object.values(c.latency).map((r) => `${us(r.p50)} / ${p99(r)}`)
    out.push(`| ${c.otherChildren} | ${cells.join(' | ')} | ${(c.latency.exit.p50 / c.latency.pidfd.p50).toFixed(2)}× |`)
  }
  out.push('', `- The same trials as the first table, while this many other children of this process run (each costs libuv a waitpid() at every SIGCHLD); ${PLAN.crowdTrials} trials per cell.`)
  out.push(`\n## A PidSet of ${scale.processes} processes (not our children)\n`)
  out.push('| measure | value |', '|---|---|')
  out.push(`| add them all (new PidSet(pids)) | ${scale.addMs.toFixed(1)} ms (${scale.addUsPerProcess.toFixed(1)} µs each) |`)
  out.push(`| memory per watched process | RSS ${(scale.rssBytesPerProcess / 1024).toFixed(2)} KiB, JS heap ${(scale.heapBytesPerProcess / 1024).toFixed(2)} KiB, kernel slab ${(scale.kernelSlabBytesPerProcess / 1024).toFixed(2)} KiB (system-wide) |`)
  out.push(`| CPU while idle ${PLAN.idleMs / 1000} s (% of a core: median second / whole window) | pidset ${scale.idle.cpuPercentMedianSecond.toFixed(3)} % / ${scale.idle.cpuPercent.toFixed(3)} %; polling kill(pid, 0) every 100 ms ${scale.pollingEvery100ms.cpuPercentMedianSecond.toFixed(2)} % / ${scale.pollingEvery100ms.cpuPercent.toFixed(2)} % |`)
  out.push(`| event-loop delay p99 while idle | pidset ${scale.idle.loopDelayP99Ms.toFixed(2)} ms; polling ${scale.pollingEvery100ms.loopDelayP99Ms.toFixed(2)} ms |`)
  out.push(`| kill them all with one kill(2), until waitAll() settles | ${scale.killToSettledMs.toFixed(1)} ms (${scale.exitsReported} exits; Node's own CPU ${scale.nodeCpuMsWhileExiting.toFixed(0)} ms, ${scale.nodeCpuUsPerExit.toFixed(1)} µs per exit) |`)
  out.push(`| the last exit, as an independent observer saw it | ${scale.lastExitAfterKillMs.toFixed(1)} ms after the kill; waitAll() settled ${scale.settledAfterLastExitMs.toFixed(1)} ms after it |`)
  out.push(`| the last reap by their new parent (when the status is known), as the observer saw it | ${scale.lastReapAfterLastExitMs.toFixed(1)} ms after the last exit; waitAll() settled ${scale.settledAfterLastReapMs.toFixed(1)} ms after it |`)
  out.push(`\n## Threadpool: 8 concurrent fs.promises.stat calls, without and with ${threadpool.pendingWaits} pending waits\n`)
  out.push(`without p50 ${us(threadpool.baseline.p50)} (p99 ${p99(threadpool.baseline)}), with p50 ${us(threadpool.withPendingWaits.p50)} (p99 ${p99(threadpool.withPendingWaits)}): ${threadpool.p50Ratio.toFixed(2)}×`)
  out.push('', "- Pending waits must not take libuv's threadpool: the two medians should match.")
  out.push(`\n## Mass exits: ${massExit.children} own children ending at once (medians of ${PLAN.massExitRounds} round(s), each method in a Node process of its own)\n`)
  out.push("| method | last exit learned | vs 'exit' | Node's CPU per exit, all threads | vs 'exit' | JavaScript thread's CPU per exit | vs 'exit' |", '|---|---|---|---|---|---|---|')
  for (const r of Object.values(massExit.rows)) {
    out.push(`| ${r.method} | ${r.lastExitMs.toFixed(1)} ms | ${r.lastExitVsExit.toFixed(2)}× | ${r.cpuUsPerExit.toFixed(1)} µs | ${r.cpuVsExit.toFixed(2)}× | ${r.mainThreadUsPerExit.toFixed(1)} µs | ${r.mainThreadVsExit.toFixed(2)}× |`)
  }
  out.push('', explain(Object.keys(massExit.rows)))
  out.push(`\n## Killing a process tree with SIGKILL (medians of ${PLAN.treeRounds} round(s), each method in a Node process of its own)\n`)
  out.push('| tree | method | processes | last process gone | escaped (median / most) |', '|---|---|---|---|---|')
  for (const shape of trees) {
    for (const r of Object.values(shape.rows)) out.push(`| depth ${shape.depth}, fanout ${shape.fanout} | ${r.method} | ${r.processes} | ${r.lastExitMs.toFixed(1)} ms | ${r.escaped} / ${r.escapedMax} |`)
  }
  out.push('', explain(['trees']).replace('GRACE', String(GRACE_MS)))
  out.push(`\n## Under Bun and Deno: kill(SIGKILL) to notification, in one process of the runtime\n`)
  if (otherRuntimes.length === 0) out.push('(not measured: Bun and Deno could not be fetched)')
  for (const other of otherRuntimes) {
    const base = other.rows.native
    out.push(`${other.runtime}, ${other.trials} trials:\n`)
    out.push(`| method | n | p50 | p99 | p50 vs ${base.method} |`, '|---|---|---|---|---|')
    for (const r of Object.values(other.rows)) out.push(`| ${r.method} | ${r.n} | ${us(r.p50)} | ${p99(r)} | ${(r.p50 / base.p50).toFixed(2)}× |`)
    out.push('')
  }
  out.push(explain(['otherNative', 'otherPidfd', 'otherSpawn']))
  out.push(`\np99 is shown only for rows of at least ${MIN_P99_SAMPLES} samples; \`npm run bench\` (the full run) has 200 to 300 per row.`)
  out.push(`\n${machine.mode} run, ${results.seconds.toFixed(0)} s, ${machine.cpus}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}`)
  console.log(out.join('\n'))

  const file = join(__dirname, quick ? 'results-quick.json' : 'results.json')
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n')
  log(`wrote ${file}`)
  if (!quick) {
    const svg = join(__dirname, 'latency-vs-children.svg')
    writeFileSync(svg, latencyChart(crowd, 'Exit notification latency as children grow'))
    log(`wrote ${svg}`)
  }
}

// A run whose event loop empties before the end (an await nothing will
// settle) must not pass for a successful one.
let finished = false
process.on('exit', () => {
  if (!finished && !process.exitCode) {
    console.error('bench: ended before it finished')
    process.exitCode = 1
  }
})

main().then(() => (finished = true)).catch((err) => {
  console.error(err)
  process.exitCode = 1
})
