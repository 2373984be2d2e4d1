'use strict'
// Latency while the Node process has many other live children: libuv calls
// waitpid() on every one of its children at each SIGCHLD, so child_process
// slows down as they grow; a pidfd is woken for its own process only.
const { sleeperChild, reaped } = require('./processes')
const { measure } = require('./latency')

/** Latency of `methodKeys` with each number of other children in `levels`. */
async function measureCrowd(levels, methodKeys, trials, log) {
  const results = []
  const others = []
  try {
    for (const level of levels) {
      while (others.length < level) others.push(await sleeperChild())
      log(`  ${level} other children...`)
      results.push({ otherChildren: level, latency: await measure(methodKeys, trials) })
    }
  } finally {
    for (const child of others) child.kill('SIGKILL')
    await Promise.all(others.map(reaped))
  }
  return results
}

module.exports = { measureCrowd }
