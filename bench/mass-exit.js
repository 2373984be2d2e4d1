'use strict'
// Mass exits of our own children: N children end at the same moment, and
// we time how long each way of waiting takes to learn of the last one, and
// how much of Node's CPU it spends per exit. Each round runs each method in
// a Node process of its own (so that no method inherits another's children,
// handles or heap), side by side, round after round.
//
// The children are `cat`s reading one FIFO; closing its only writer ends
// them all at once, with no kill loop on the clock. Nothing looks them up
// in /proc: a /proc/<pid> entry that was ever looked up costs its reaper
// several microseconds more at the reap (the kernel invalidates it), which
// would weigh on every method alike and flatten the ratios.
const { spawnSync, execFileSync } = require('node:child_process')
const { mkdtempSync, openSync, closeSync, rmSync, constants } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { quantile } = require('./stats')

/** What each method runs in its child Node process, and its front-end. */
const METHODS = {
  exit: { label: "child_process 'exit'", kind: 'childProcess' },
  pidsetSet: { label: 'spawn() + PidSet.waitAll()', kind: 'pidsetSet' },
  pidsetExited: { label: 'spawn() + every exited', kind: 'pidsetExited' },
  pidsetSetPortable: { label: 'spawn() + PidSet.waitAll(), portable front-end', kind: 'pidsetSet', env: { PIDSET_FRONTEND: 'portable' } },
}

/**
 * Runs in the child: a warm-up of the same shape (so that the exit path is
 * compiled, as in a process that has run for a while), then starts `n`
 * children of `kind`, ends them and reports.
 */
async function child(kind, n) {
  await batch(kind, WARM_UP, false)
  await batch(kind, n, true)
}

/** Children ended by the warm-up before the measured batch. */
const WARM_UP = 2000

/** One batch of `n` children of `kind`; prints its measures if `report`. */
async function batch(kind, n, report) {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-mass-'))
  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', [fifo])
  // Read-write: opening never blocks, and it is the FIFO's only writer.
  const writer = openSync(fifo, constants.O_RDWR)
  const reader = openSync(fifo, constants.O_RDONLY)
  // Each child writes one byte here as it is about to become `cat`.
  const ready = pipePair()
  const stdio = [reader, 'ignore', ready.writer]
  const args = ['-c', 'printf . >&2; exec cat 2>/dev/null']
  let done
  if (kind === 'childProcess') {
    const { spawn } = require('node:child_process')
    let left = n
    let resolve
    done = new Promise((r) => (resolve = r))
    for (let i = 0; i < n; i++) {
      spawn('sh', args, { stdio }).once('exit', () => {
        if (--left === 0) resolve()
      })
    }
  } else {
    const { spawn, PidSet } = require('..')
    const children = Array.from({ length: n }, () => spawn('sh', args, { stdio }))
    done = kind === 'pidsetSet' ? new PidSet(children.map((c) => c.pidfd)).waitAll() : Promise.all(children.map((c) => c.exited))
  }
  closeSync(reader)
  closeSync(ready.writer)
  // Every child has become `cat` (or is a moment away: one that reaches
  // its read() after the FIFO closes finds it closed, and ends as well).
  await readBytes(ready.reader, n)
  closeSync(ready.reader)
  const cpu = process.cpuUsage()
  const mainCpu = mainThreadCpuNs()
  const start = process.hrtime.bigint()
  closeSync(writer)
  await done
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6
  const mainUs = (mainThreadCpuNs() - mainCpu) / 1000
  const used = process.cpuUsage(cpu)
  rmSync(dir, { recursive: true, force: true })
  const result = { lastExitMs: elapsedMs, cpuUsPerExit: (used.user + used.system) / n, mainThreadUsPerExit: mainUs / n }
  if (report) process.stdout.write(JSON.stringify(result) + '\n')
}

/**
 * CPU time of the JavaScript thread so far, in ns (the scheduler's own
 * account, /proc/<pid>/task/<pid>/schedstat): what the event loop spent,
 * apart from V8's compiler and GC threads and any thread of pidset's.
 */
function mainThreadCpuNs() {
  const { readFileSync } = require('node:fs')
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0])
}

/** A pipe, both ends as descriptors: [read end, write end]. */
function pipePair() {
  // node:fs has no pipe(); a FIFO opened at both ends is one, unlinked at once.
  const dir = mkdtempSync(join(tmpdir(), 'pidset-ready-'))
  const path = join(dir, 'ready')
  execFileSync('mkfifo', [path])
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  const writer = openSync(path, constants.O_WRONLY)
  rmSync(dir, { recursive: true, force: true })
  return { reader, writer }
}

/** Resolves once `n` bytes have been read from the non-blocking descriptor `fd`. */
async function readBytes(fd, n) {
  const { readSync } = require('node:fs')
  const buffer = Buffer.alloc(Math.max(n, 1))
  let got = 0
  while (got < n) {
    try {
      const read = readSync(fd, buffer, 0, n - got, null)
      if (read === 0) throw new Error(`mass-exit: ${got} of ${n} children started`)
      got += read
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

/**
 * `rounds` rounds of every method with `n` children each. Returns per
 * method the medians of the last exit (ms after the FIFO closed), of
 * Node's CPU per exit (µs: every thread of the process, and the JavaScript
 * thread alone), and their ratios to child_process's from the same rounds.
 */
function measureMassExit(n, rounds, log) {
  const samples = Object.fromEntries(Object.keys(METHODS).map((m) => [m, []]))
  for (let round = 0; round < rounds; round++) {
    for (const [method, { kind, env }] of Object.entries(METHODS)) {
      const ran = spawnSync(process.execPath, [__filename, kind, String(n)], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 300_000,
      })
      if (ran.status !== 0) throw new Error(`mass-exit ${method}: ${ran.stderr || ran.error}`)
      samples[method].push(JSON.parse(ran.stdout))
    }
    log(`  round ${round + 1} of ${rounds} done`)
  }
  const median = (list, key) => quantile(list.map((s) => s[key]), 0.5)
  const rows = {}
  for (const [method, list] of Object.entries(samples)) {
    rows[method] = {
      method: METHODS[method].label,
      rounds: list.length,
      lastExitMs: median(list, 'lastExitMs'),
      cpuUsPerExit: median(list, 'cpuUsPerExit'),
      mainThreadUsPerExit: median(list, 'mainThreadUsPerExit'),
      samples: list,
    }
  }
  for (const row of Object.values(rows)) {
    row.lastExitVsExit = row.lastExitMs / rows.exit.lastExitMs
    row.cpuVsExit = row.cpuUsPerExit / rows.exit.cpuUsPerExit
    row.mainThreadVsExit = row.mainThreadUsPerExit / rows.exit.mainThreadUsPerExit
  }
  return { children: n, rows }
}

if (require.main === module) {
  child(process.argv[2], Number(process.argv[3])).catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}

module.exports = { measureMassExit }
