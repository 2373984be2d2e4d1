'use strict'
// What each benchmark row measures, in one line: printed under every table,
// so that a run's output reads on its own.

/** By row key (the keys of the result objects). */
const ROWS = {
  pidfd: 'PidFd.wait() on a child_process child, from its SIGKILL to the wait settling.',
  pidfdForeign: 'PidFd.wait() on a sleep a reaping shell started (not our child): settles at the reap, with the status (Linux 6.15+).',
  pidset: 'PidSet.waitAny() on a one-member set, same child and kill as PidFd.wait().',
  exit: "child_process's own 'exit' event for the same kind of child: the baseline.",
  poll10: 'What PID-polling packages do: kill(pid, 0) every 10 ms until it fails (the kill lands at a random phase).',
  pidfdForeignNoReap: 'PidFd.wait() on a sleep whose parent never reaps it: settles at the 100 ms grace, without a status.',
  poll100: 'kill(pid, 0) every 100 ms, as is-running/tree-kill-style loops do.',
  floor: 'A Rust program blocked in epoll_wait on the pidfd: what the kernel alone costs, no event loop.',
  floorForeignExit: 'The Rust floor on a process that is not its child: time to its exit.',
  floorForeignReap: 'The Rust floor on a process that is not its child: time to its reap by its parent.',
  pidsetIgnore: "pidset's spawn('true') with stdio 'ignore', until `exited` settles.",
  cpIgnore: "child_process.spawn('true') with stdio 'ignore', until 'exit'.",
  execaIgnore: "execa('true') with stdio 'ignore', until it resolves.",
  pidsetPipe: "pidset's spawn('true'), piped, until output() resolves.",
  cpPipe: "child_process.spawn('true'), piped, output collected until 'close'.",
  execaPipe: "execa('true') with its default pipes, until it resolves.",
  pidsetSet: "pidset's spawn('cat') children, their pidfds in one PidSet, until waitAll() settles; the FIFO they read closes on the clock's start.",
  pidsetExited: "The same children, until every Subprocess's exited has settled (no PidSet).",
  pidsetSetPortable: 'spawn() + PidSet.waitAll() through the portable front-end (PIDSET_FRONTEND=portable): exits read and reaped on a thread of pidset\'s, so the JavaScript thread only settles them.',
  otherNative: "The runtime's own wait for its own child (Bun.spawn().exited; Deno.Command's status): the baseline.",
  otherPidfd: 'PidFd.wait() on that same kind of child, through the portable front-end (a thread and a threadsafe function: one thread hop).',
  otherSpawn: "pidset's spawn() and its exited, in the same runtime.",
  trees: "Each tree: shells that start their children and wait, the first leaf of each parent setsid'd, and one process the root double-forked (an orphan of init) before the kill. From the kill to the last exit (each process's pidfd checked every millisecond); escaped: still running GRACE ms after the method said it was done. pidset killTree() walks the tree through pidfds (the orphan is no longer in it); with spawn()'s cgroup option it goes through cgroup.kill; tree-kill runs `ps --ppid` once per process; terminate lists the tree once (ps-tree); execa's killDescendants signals the process group (setsid'd leaves are not in it).",
}

/** The explanation lines for `keys`, as a Markdown list. */
function explain(keys) {
  return keys
    .filter((key) => ROWS[key])
    .map((key) => `- ${ROWS[key]}`)
    .join('\n')
}

/** Fewer samples than this and a p99 says little: it is not shown. */
const MIN_P99_SAMPLES = 100

module.exports = { explain, MIN_P99_SAMPLES }
