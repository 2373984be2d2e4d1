'use strict'
// Kill-to-notification latency: how long after process.kill(pid, 'SIGKILL')
// user code learns that the process exited, for each way of learning it.
const { execFileSync } = require('node:child_process')
const { join } = require('node:path')
const { PidFd, PidSet } = require('..')
const { nowUs, delay, summary } = require('./stats')
const { sleeperChild, reaped, Spawner } = require('./processes')

/** Polls process.kill(pid, 0) every `interval` ms, as is-running and the like do. */
function pollKill0(interval) {
  return {
    name: `poll kill(pid, 0) every ${interval} ms`,
    arm(pid) {
      let timer
      const learned = new Promise((resolve) => {
        const check = () => {
          try {
            process.kill(pid, 0)
          } catch {
            clearInterval(timer)
            resolve(nowUs())
          }
        }
        // Start at a random phase so the kill lands anywhere in an interval.
        timer = setTimeout(() => {
          check()
          timer = setInterval(check, interval)
        }, Math.random() * interval)
      })
      return { learned, done: () => clearInterval(timer) }
    },
  }
}

/**
 * PidFd.wait() on our own child, or with `foreign` on a process started by
 * a shell that reaps its children ('reaping') or does not ('not reaping').
 */
function pidfdWait(name, foreign) {
  return {
    name,
    foreign,
    arm(pid) {
      const pidfd = PidFd.open(pid)
      return { learned: pidfd.wait().then(nowUs), done: () => pidfd.close() }
    },
  }
}

/** Each way of learning of an exit, armed on a child before it is killed. */
const METHODS = {
  pidfd: pidfdWait('PidFd.wait()'),
  pidfdForeign: pidfdWait('PidFd.wait(), not our child', 'reaping'),
  pidfdForeignNoReap: pidfdWait('PidFd.wait(), not our child, its parent never reaps', 'not reaping'),
  pidset: {
    name: 'PidSet.waitAny()',
    arm(pid) {
      const set = new PidSet([pid])
      return { learned: set.waitAny().then(nowUs), done: () => set.close() }
    },
  },
  exit: {
    name: "child_process 'exit' event",
    arm(pid, child) {
      return { learned: new Promise((resolve) => child.once('exit', () => resolve(nowUs()))), done() {} }
    },
  },
  poll10: pollKill0(10),
  poll100: pollKill0(100),
}

/** The shells that start processes for the not-our-child trials, by kind. */
const spawners = new Map()

/** A `sleep` started by a shell: a process Node did not spawn (no SIGCHLD). */
async function foreignSleeper(kind) {
  let spawner = spawners.get(kind)
  if (!spawner) spawners.set(kind, (spawner = new Spawner({ reaps: kind === 'reaping' })))
  const [pid] = await spawner.start(1)
  return { pid, gone: () => Promise.resolve() }
}

/** A `sleep` child of this process, through child_process. */
async function ownSleeper() {
  const child = await sleeperChild()
  return { pid: child.pid, child, gone: () => reaped(child) }
}

/**
 * One trial: a fresh `sleep`, killed at a random moment. Returns µs.
 * `onKill(killed)`, if given, is told the kill's timestamp just before it.
 */
async function trial(method, onKill) {
  const target = method.foreign ? await foreignSleeper(method.foreign) : await ownSleeper()
  const armed = method.arm(target.pid, target.child)
  await delay(Math.random() * 5)
  const killed = nowUs()
  onKill?.(killed)
  process.kill(target.pid, 'SIGKILL')
  const learned = await armed.learned
  armed.done()
  await target.gone()
  return learned - killed
}

/** Stops the shells that start processes for the not-our-child trials. */
function closeSpawner() {
  for (const spawner of spawners.values()) spawner.close()
  spawners.clear()
}

/** Runs `trials` trials of each method, interleaved so drift hits all alike. */
async function measure(methodKeys, trials) {
  const samples = Object.fromEntries(methodKeys.map((k) => [k, []]))
  for (let i = 0; i < trials; i++) {
    for (const key of methodKeys) samples[key].push(await trial(METHODS[key]))
  }
  return Object.fromEntries(methodKeys.map((k) => [k, { method: METHODS[k].name, ...summary(samples[k]) }]))
}

/**
 * The floor: a Rust program blocked in epoll_wait on the pidfd
 * (crates/pidset/benches/latency_floor.rs), built in release mode. With
 * `foreign`, on processes a reaping bash started, timing both the exit and
 * the reap (when the kernel gives the status): two rows.
 */
function measureFloor(trials, foreign = false) {
  const args = ['bench', '-q', '-p', 'pidset', '--bench', 'latency_floor', '--', String(trials)]
  if (foreign) args.push('foreign')
  const out = execFileSync('cargo', args, {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const { samples_us: samples, reaped_us: reaped } = JSON.parse(out.trim().split('\n').pop())
  if (!foreign) return { floor: { method: 'Rust floor: epoll_wait on the pidfd', ...summary(samples) } }
  return {
    floorForeignExit: { method: 'Rust floor, not our child: its exit', ...summary(samples) },
    floorForeignReap: { method: 'Rust floor, not our child: its reap by its parent', ...summary(reaped) },
  }
}

module.exports = { METHODS, trial, measure, measureFloor, closeSpawner }
