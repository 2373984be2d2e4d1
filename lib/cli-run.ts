// `pidset run`: runs a command as pidset's own child, as GNU time and
// timeout(1) would, with the child dying with this process.
import { constants } from 'node:os'
import { spawn } from './subprocess'
import type { ChildExitInfo } from './exit-info'
import { describeExit, millisecondsOf, parse, secondsOf, shellStatus, STATUS, UsageError } from './cli-common'

export const RUN_HELP = `Usage: pidset run [--timeout SECONDS] [--kill-after MS] [--contain] [--json] -- COMMAND [ARGS...]

Runs COMMAND with this terminal's stdin, stdout and stderr, and exits with
its exit code (128 + the signal's number if a signal ended it, as shells
do). The command is killed if pidset itself dies (killOnParentExit), and
SIGINT, SIGTERM and SIGHUP sent to pidset are passed on to it. On exit, a
summary goes to stderr: wall time, user and system CPU, peak memory.

Options:
  --timeout SECONDS     send SIGTERM after this long (status 124); 0: never
  --kill-after MS       then SIGKILL if it still runs (default 5000)
  --contain             run it in a cgroup of its own, so that the timeout,
                        a signal or pidset's death takes every process it
                        started, daemons and double forks included
  --json                the summary as one JSON object
  -h, --help            this help

Exit status: the command's; 124 if the timeout killed it; 126 if it could
not be run, 127 if it was not found; 2 on bad usage.

Examples:
  pidset run -- make -j8
  pidset run --timeout 60 --contain -- npm test
  pidset run --json -- ./bench.sh 2> summary.json`

/** Runs `pidset run`; resolves with the exit status. */
export async function run(args: string[], err: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse({
    args,
    allowPositionals: true,
    options: { timeout: { type: 'string' }, 'kill-after': { type: 'string' }, contain: { type: 'boolean' }, json: { type: 'boolean' } },
  })
  if (positionals.length === 0) throw new UsageError('no command given: pidset run [OPTIONS] -- COMMAND [ARGS...]')
  const [command, ...commandArgs] = positionals
  const timeoutMs = Math.round(secondsOf(values.timeout, '--timeout') * 1000)
  const killAfter = values['kill-after'] === undefined ? 5000 : millisecondsOf(values['kill-after'], '--kill-after')
  // Listened to before the command starts: a signal that comes as it
  // starts is passed on too, rather than end pidset the default way.
  const early: NodeJS.Signals[] = []
  let child: ReturnType<typeof spawn> | undefined
  /** Sends `signal` to the command (its whole cgroup with --contain). */
  const forward = (signal: NodeJS.Signals): void => {
    if (!child) early.push(signal)
    else if (values.contain) child.killTree(signal).catch(() => undefined)
    else child.kill(signal)
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, forward)
  const started = process.hrtime.bigint()
  child = spawn(command, commandArgs, { stdio: 'inherit', killOnParentExit: true, cgroup: values.contain === true, forceKillAfterDelay: killAfter })
  for (const signal of early.splice(0)) forward(signal)
  let timedOut = false
  const running = child
  const timer = timeoutMs > 0 ? setTimeout(() => {
    timedOut = true
    if (values.contain) running.killTree('SIGTERM', { forceKillAfterDelay: killAfter || 1 }).catch(() => undefined)
    else running.kill('SIGTERM')
  }, timeoutMs) : undefined
  let exit: ChildExitInfo
  try {
    exit = await running.exited
  } catch (e) {
    const code = (e as { code?: string }).code
    err.write(`pidset run: cannot run ${command}: ${(e as Error).message}\n`)
    return code === 'ENOENT' ? 127 : 126
  } finally {
    clearTimeout(timer)
    for (const signal of signals) process.off(signal, forward)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const { userCPUTime, systemCPUTime, maxRSS } = exit.rusage
  if (values.json) {
    err.write(`${JSON.stringify({ command, exitCode: exit.exitCode, signal: exit.signal, coreDumped: exit.coreDumped, timedOut, seconds: round(seconds), userCPUSeconds: round(userCPUTime / 1e6), systemCPUSeconds: round(systemCPUTime / 1e6), maxRSSKiB: maxRSS })}\n`)
  } else {
    const rss = maxRSS === null ? 'not known' : `${(maxRSS / 1024).toFixed(1)} MiB`
    err.write(`pidset run: ${command} ${describeExit(exit)}${timedOut ? ' (timed out)' : ''} in ${seconds.toFixed(2)} s: user ${(userCPUTime / 1e6).toFixed(2)} s, system ${(systemCPUTime / 1e6).toFixed(2)} s, max RSS ${rss}\n`)
  }
  return timedOut ? STATUS.timedOut : shellStatus(exit, constants.signals as Record<string, number>)
}

function round(value: number): number {
  return Number(value.toFixed(3))
}
