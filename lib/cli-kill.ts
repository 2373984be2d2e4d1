// `pidset kill`: opens every PID, then signals through the handles.
import { constants } from 'node:os'
import { PidSet } from './pid-set'
import { toSignalNumber } from './signals'
import { CommandError, describeExit, millisecondsOf, parse, pidsOf, signalOf, STATUS, UsageError } from './cli-common'
import { openAll } from './cli-open'

export const KILL_HELP = `Usage: pidset kill [--signal SIG] [--wait] [--force-after MS] PID...

Opens every PID first, then sends the signal (default TERM) through those
handles: a process that has exited meanwhile is never confused with one
that got its PID. With --wait, waits for each to exit and prints how it
ended; with --force-after, sends SIGKILL to those still running that many
milliseconds later (and waits).

Options:
  -s, --signal SIG      TERM, SIGTERM, 15... (default TERM)
  --wait                wait for every process to exit, printing each exit
  --force-after MS      SIGKILL what still runs after MS milliseconds
  -h, --help            this help

Exit status: 0 when every signal was sent (and, waiting, every process
exited), 1 when a PID cannot be opened or signalled, 2 on bad usage.

Examples:
  pidset kill 4242
  pidset kill --signal INT --wait 4242
  pidset kill --force-after 5000 $(cat server.pid)`

/** Runs `pidset kill`; resolves with the exit status. */
export async function kill(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse({
    args,
    allowPositionals: true,
    options: { signal: { type: 'string', short: 's' }, wait: { type: 'boolean' }, 'force-after': { type: 'string' } },
  })
  const pids = pidsOf(positionals)
  const signal = signalOf(values.signal, 'SIGTERM')
  try {
    toSignalNumber(signal)
  } catch {
    throw new UsageError(`unknown signal: '${values.signal}'`)
  }
  const forceAfter = millisecondsOf(values['force-after'], '--force-after')
  const handles = openAll(pids)
  try {
    for (const pidfd of handles) {
      try {
        pidfd.kill(signal as never)
      } catch (err) {
        throw new CommandError(`cannot signal PID ${pidfd.pid}: ${(err as Error).message}`)
      }
    }
    if (!values.wait && forceAfter === 0) return STATUS.ok
    const set = new PidSet(handles)
    const timer = forceAfter > 0 ? setTimeout(() => {
      for (const pidfd of handles) if (!pidfd.closed && pidfd.isRunning()) pidfd.kill(constants.signals.SIGKILL)
    }, forceAfter) : undefined
    try {
      for await (const exit of set) out.write(`${exit.pid} ${describeExit(exit)}\n`)
    } finally {
      clearTimeout(timer)
      set.close()
    }
    return STATUS.ok
  } finally {
    for (const pidfd of handles) pidfd.close()
  }
}
