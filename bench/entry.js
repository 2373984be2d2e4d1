'use strict'
// Where the time of an exit notification goes: from process.kill() to the
// first JavaScript of the native callback that reports it, for pidset's
// poller and for libuv's child watcher (which emits child_process's
// 'exit'). Both enter JavaScript through node::MakeCallback, so async_hooks'
// `before` hook fires as each one starts: no instrumented build needed. The
// hook is enabled for this measurement alone, in a Node process of its own
// (async_hooks sees a resource only if it was enabled when the resource was
// made, and pidset makes its poller once per thread); it slows promise-heavy
// code, so the totals of the latency table come from a run without it.
const async_hooks = require('node:async_hooks')
const { execFileSync } = require('node:child_process')
const { nowUs, summary } = require('./stats')
// pidset makes its poller at the first wait, after the hook is enabled.
const { METHODS, trial } = require('./latency')

/** The async resource type of each callback: pidset's poller, libuv's child process handle. */
const TYPES = { pidfd: 'pidset', exit: 'PROCESSWRAP' }

/**
 * Runs `trials` interleaved trials of each way, with the hook enabled.
 * Returns, per way, the p50/p99 of kill to callback entry, and of callback
 * entry to user code (trial by trial; slowed by the hook, see above).
 */
async function measureHere(trials) {
  const state = { entered: NaN, want: '' }
  const ids = new Map()
  const hook = async_hooks.createHook({
    init(id, type) {
      if (type === TYPES.pidfd || type === TYPES.exit) ids.set(id, type)
    },
    before(id) {
      if (Number.isNaN(state.entered) && ids.get(id) === state.want) state.entered = nowUs()
    },
    destroy(id) {
      ids.delete(id)
    },
  })
  const samples = { pidfd: { entry: [], js: [] }, exit: { entry: [], js: [] } }
  hook.enable()
  try {
    for (let i = 0; i < trials; i++) {
      for (const key of Object.keys(samples)) {
        let killed = NaN
        const known = await trial(METHODS[key], (at) => {
          killed = at
          state.entered = NaN
          state.want = TYPES[key]
        })
        // A callback of another resource type would leave no entry: skip.
        if (Number.isNaN(state.entered)) continue
        const entered = state.entered - killed
        samples[key].entry.push(entered)
        samples[key].js.push(known - entered)
      }
    }
  } finally {
    hook.disable()
  }
  return {
    pidfd: { method: "pidset's exit callback", entry: summary(samples.pidfd.entry), js: summary(samples.pidfd.js) },
    exit: { method: "libuv's child exit callback ('exit' event)", entry: summary(samples.exit.entry), js: summary(samples.exit.js) },
  }
}

/** {@link measureHere} in a fresh Node process (see the top of this file). */
function measureEntry(trials) {
  const out = execFileSync(process.execPath, [__filename, String(trials)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  return JSON.parse(out)
}

if (require.main === module) {
  measureHere(Number(process.argv[2])).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
}

module.exports = { measureEntry }
