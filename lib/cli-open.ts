// Opening the PIDs a command is given, all or none: a PID that cannot be
// opened is a clear error before anything is waited for or signalled.
import { PidFd } from './pid-fd'
import { CommandError } from './cli-common'

/** A handle to each of `pids`; throws a CommandError naming the first that cannot be opened (none stays open). */
export function openAll(pids: number[]): PidFd[] {
  const opened: PidFd[] = []
  try {
    for (const pid of pids) opened.push(openOne(pid))
  } catch (err) {
    for (const pidfd of opened) pidfd.close()
    throw err
  }
  return opened
}

/** A handle to `pid`, or a CommandError that says why not. */
export function openOne(pid: number): PidFd {
  try {
    return PidFd.open(pid)
  } catch (err) {
    const e = err as { code?: string }
    const why = e.code === 'ESRCH' ? 'no such process' : e.code === 'EPERM' || e.code === 'EACCES' ? 'permission denied' : String((err as Error).message)
    throw new CommandError(`cannot open PID ${pid}: ${why}${e.code ? ` (${e.code})` : ''}`)
  }
}
