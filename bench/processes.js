'use strict'
// Processes to measure: our own children, and processes that are not ours.
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const readline = require('node:readline')

/** A child_process child running `sleep 1000`, once it has started. */
async function sleeperChild() {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' })
  await once(child, 'spawn')
  return child
}

/** Resolves when child_process has reaped `child`. */
function reaped(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return once(child, 'exit')
}

/**
 * A shell that starts `sleep 1000` processes on request. They are its
 * children, not ours, as any process a monitor watches would be. With
 * `reaps` (the default) the shell is bash, which reaps a child as soon as
 * SIGCHLD tells it, as a supervisor or a server does; without, it is dash,
 * which does not reap while it waits for input, as a parent that never
 * reaps its children would.
 */
class Spawner {
  constructor({ reaps = true } = {}) {
    // detached: its own process group, so killGroup() is one system call.
    const script = 'while read n; do i=0; while [ $i -lt $n ]; do sleep 1000 & echo $!; i=$((i+1)); done; done'
    this.shell = spawn(reaps ? 'bash' : 'sh', ['-c', script], {
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    })
    this.lines = readline.createInterface({ input: this.shell.stdout })[Symbol.asyncIterator]()
  }

  /** Starts `count` sleepers and returns their PIDs. */
  async start(count) {
    this.shell.stdin.write(`${count}\n`)
    const pids = []
    while (pids.length < count) {
      const { value, done } = await this.lines.next()
      if (done) throw new Error('the spawner shell exited')
      pids.push(Number(value))
    }
    return pids
  }

  /** SIGKILL to the shell and every sleeper at once (one kill(2) call). */
  killGroup() {
    try {
      process.kill(-this.shell.pid, 'SIGKILL')
    } catch {}
  }

  close() {
    this.killGroup()
  }
}

/** Sends SIGKILL to each PID that still exists. */
function killAll(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

module.exports = { sleeperChild, reaped, Spawner, killAll }
