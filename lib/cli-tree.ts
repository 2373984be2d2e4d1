// `pidset tree`: shows the process tree under a PID, or kills it.
import { readFileSync } from 'node:fs'
import type { PidFd } from './pid-fd'
import { descendants, killTree } from './tree'
import { toSignalNumber } from './signals'
import { describeExit, parse, pidsOf, signalOf, STATUS, UsageError } from './cli-common'
import { openOne } from './cli-open'

export const TREE_HELP = `Usage: pidset tree [--kill] [--signal SIG] PID

Prints the processes under PID, each indented under its parent (PID and
command), every one verified to be the process listed. With --kill, kills
the whole tree race-free (each process is stopped before its children are
listed, so none escapes by forking; nothing outside the tree is ever
signalled), waits for every process to exit and prints how each ended.

Options:
  --kill                kill the tree (the signal, default TERM) and wait
  -s, --signal SIG      the signal for --kill: TERM, KILL, INT, 9...
  -h, --help            this help

Exit status: 0 on success, 1 when PID cannot be opened, 2 on bad usage.

Examples:
  pidset tree 1
  pidset tree --kill --signal KILL $(cat build.pid)`

/** Runs `pidset tree`; resolves with the exit status. */
export async function tree(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse({
    args,
    allowPositionals: true,
    options: { kill: { type: 'boolean' }, signal: { type: 'string', short: 's' } },
  })
  if (positionals.length > 1) throw new UsageError('pidset tree takes one PID')
  if (values.signal !== undefined && !values.kill) throw new UsageError('--signal goes with --kill')
  const [pid] = pidsOf(positionals)
  const signal = signalOf(values.signal, 'SIGTERM')
  try {
    toSignalNumber(signal)
  } catch {
    throw new UsageError(`unknown signal: '${values.signal}'`)
  }
  const root = openOne(pid)
  try {
    if (values.kill) {
      const exits = await killTree(root, signal as never, { wait: true })
      for (const exit of exits) out.write(`${exit.pid} ${describeExit(exit)}\n`)
      return STATUS.ok
    }
    const below = descendants(root)
    try {
      printTree(root, below, out)
    } finally {
      for (const pidfd of below) pidfd.close()
    }
    return STATUS.ok
  } finally {
    root.close()
  }
}

/** Prints `root` and `below` (parents before children), indented by depth. */
function printTree(root: PidFd, below: PidFd[], out: NodeJS.WritableStream): void {
  const depth = new Map<number, number>([[root.pid, 0]])
  const children = new Map<number, PidFd[]>()
  for (const pidfd of below) {
    let parent: number
    try {
      parent = pidfd.info().ppid
    } catch {
      continue // exited since the walk
    }
    const list = children.get(parent) ?? []
    list.push(pidfd)
    children.set(parent, list)
  }
  const visit = (pidfd: PidFd): void => {
    const level = depth.get(pidfd.pid) ?? 0
    out.write(`${'  '.repeat(level)}${pidfd.pid} ${commandOf(pidfd.pid)}\n`)
    for (const child of children.get(pidfd.pid) ?? []) {
      depth.set(child.pid, level + 1)
      visit(child)
    }
  }
  visit(root)
}

/** The command line of `pid` (its arguments joined by spaces), or its name. */
function commandOf(pid: number): string {
  try {
    const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
    if (line) return line
    return `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`
  } catch {
    return '(exited)'
  }
}
