'use strict'
// Spawn-to-exit round trip: how long from asking for `true` to be started
// to knowing its exit, with pidset's spawn(), child_process.spawn() and
// execa, in two shapes: stdio ignored (start and wait only) and stdio piped
// with the output collected (the common "run and collect" case).
const childProcess = require('node:child_process')
const { once } = require('node:events')
const { spawn } = require('..')
const { nowUs, summary } = require('./stats')

/** Collects a child_process child's output as strings, as execa and output() do. */
async function collect(child) {
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s))
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s))
  const [code, signal] = await once(child, 'close')
  return { stdout, stderr, code, signal }
}

/** Each way of running `true`, resolving once its exit is known. */
function methods(execa) {
  return {
    pidsetIgnore: { name: "pidset spawn(), stdio 'ignore', await exited", run: () => spawn('true', [], { stdio: 'ignore' }).exited },
    cpIgnore: {
      name: "child_process.spawn(), stdio 'ignore', 'exit' event",
      run: () => once(childProcess.spawn('true', [], { stdio: 'ignore' }), 'exit'),
    },
    execaIgnore: { name: "execa, stdio 'ignore'", run: () => execa('true', { stdio: 'ignore' }) },
    pidsetPipe: { name: 'pidset spawn(), piped, await output()', run: () => spawn('true').output() },
    cpPipe: { name: "child_process.spawn(), piped, output collected to 'close'", run: () => collect(childProcess.spawn('true')) },
    execaPipe: { name: 'execa, piped (its default)', run: () => execa('true') },
  }
}

/**
 * Runs `trials` round trips of each method (of `only`, if given),
 * interleaved so that drift hits all alike, after a few untimed ones (the
 * first spawns load code and warm caches). Returns { key: { method, n, p50, p99 } }.
 */
async function measureSpawn(trials, only) {
  // execa is ESM only.
  const { execa } = await import('execa')
  const all = methods(execa)
  const keys = Object.keys(all).filter((k) => !only || only.includes(k))
  const samples = Object.fromEntries(keys.map((k) => [k, []]))
  for (let i = 0; i < trials + 5; i++) {
    for (const key of keys) {
      const started = nowUs()
      await all[key].run()
      if (i >= 5) samples[key].push(nowUs() - started)
    }
  }
  return Object.fromEntries(keys.map((k) => [k, { method: all[k].name, ...summary(samples[k]) }]))
}

/**
 * The same round trip from a bigger Node process: `mib` MiB of memory
 * written (so mapped and in the page tables) before measuring, as a server
 * with a large heap has. A fork copies those page tables; pidset's vfork
 * does not.
 */
async function measureSpawnWithBallast(trials, mib) {
  const ballast = Buffer.alloc(mib * 1024 * 1024, 1)
  try {
    return await measureSpawn(trials, ['pidsetIgnore', 'cpIgnore', 'execaIgnore'])
  } finally {
    ballast.fill(0, 0, 1) // keeps it alive to the end
  }
}

module.exports = { measureSpawn, measureSpawnWithBallast }
