'use strict'
// Runs bench/other-runtimes.mjs under Bun and Deno (fetched from the npm
// registry by __test__/runtimes/fetch.sh, as the behaviour suite is).
const { execFileSync } = require('node:child_process')
const { join } = require('node:path')

const root = join(__dirname, '..')

/** Each runtime's result ({ runtime, trials, rows }); none if they cannot be fetched. */
function measureOtherRuntimes(trials, log) {
  let paths
  try {
    paths = execFileSync('bash', [join(root, '__test__', 'runtimes', 'fetch.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  } catch (err) {
    log(`  skipped: Bun and Deno could not be fetched (${err.message})`)
    return []
  }
  const path = (name) => paths.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1]
  const script = join(__dirname, 'other-runtimes.mjs')
  const runs = [
    [path('bun'), [script, String(trials)], {}],
    [path('deno'), ['run', '--allow-all', script, String(trials)], { DENO_NO_UPDATE_CHECK: '1' }],
  ]
  return runs.map(([binary, args, env]) => {
    const out = execFileSync(binary, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 })
    const result = JSON.parse(out.trim().split('\n').pop())
    log(`  ${result.runtime} done`)
    return result
  })
}

module.exports = { measureOtherRuntimes }
