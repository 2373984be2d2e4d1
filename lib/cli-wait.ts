// `pidset wait`: waits for processes to exit and reports each exit.
import { PidSet } from './pid-set'
import { describeExit, parse, pidsOf, secondsOf, STATUS } from './cli-common'
import { openAll } from './cli-open'
import type { ExitInfo } from './exit-info'

export const WAIT_HELP = `Usage: pidset wait [--any] [--timeout SECONDS] [--json] PID...

Waits for every PID to exit (or, with --any, for the first), without
polling, and prints a line for each exit as it happens: the PID, its exit
code or signal where known, and the time waited. The PIDs are opened first:
one that does not exist is an error before anything is waited for.

Options:
  --any                 stop at the first exit
  --timeout SECONDS     give up after this long (exit status 124); 0: never
  --json                one JSON object per exit instead of a sentence
  -h, --help            this help

Exit status: 0 when the wait completed, 124 on timeout, 1 when a PID
cannot be opened, 2 on bad usage.

Examples:
  pidset wait 4242                      # until 4242 exits
  pidset wait --any --timeout 30 $(pgrep -d' ' worker)
  pidset wait --json 4242 4243 | jq .exitCode`

/** Runs `pidset wait`; resolves with the exit status. */
export async function wait(args: string[], out: NodeJS.WriteStream, err: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse({
    args,
    allowPositionals: true,
    options: { any: { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
  })
  const pids = pidsOf(positionals)
  const timeoutMs = Math.round(secondsOf(values.timeout, '--timeout') * 1000)
  const set = new PidSet(openAll(pids))
  const started = process.hrtime.bigint()
  const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9
  const progress = out.isTTY && pids.length > 1 ? new Progress(out, pids.length) : undefined
  const report = (exit: ExitInfo): void => {
    const line = values.json
      ? JSON.stringify({ pid: exit.pid, exitCode: exit.exitCode, signal: exit.signal, coreDumped: exit.coreDumped, seconds: Number(seconds().toFixed(3)) })
      : `${exit.pid} ${describeExit(exit)} after ${seconds().toFixed(2)} s`
    progress?.clear()
    out.write(`${line}\n`)
    progress?.exited(exit)
  }
  progress?.draw()
  try {
    let left = pids.length
    while (left > 0) {
      const remaining = timeoutMs === 0 ? 0 : timeoutMs - seconds() * 1000
      if (timeoutMs !== 0 && remaining <= 0) throw Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })
      report(await set.waitAny({ timeout: timeoutMs === 0 ? 0 : Math.max(1, Math.ceil(remaining)) }))
      left--
      if (values.any) break
    }
    progress?.clear()
    return STATUS.ok
  } catch (e) {
    if ((e as { code?: string }).code !== 'ETIMEDOUT') throw e
    progress?.clear()
    err.write(`pidset wait: timed out after ${secondsOf(values.timeout, '--timeout')} s, ${set.size} of ${pids.length} still running\n`)
    return STATUS.timedOut
  } finally {
    set.close()
  }
}

/** The progress line at a terminal: how many have exited, and the latest. */
class Progress {
  #done = 0
  #latest = ''
  readonly #out: NodeJS.WriteStream
  readonly #total: number

  constructor(out: NodeJS.WriteStream, total: number) {
    this.#out = out
    this.#total = total
  }

  exited(exit: ExitInfo): void {
    this.#done++
    this.#latest = `, latest: ${exit.pid} ${describeExit(exit)}`
    this.draw()
  }

  draw(): void {
    this.#out.write(`\r\x1b[K${this.#done} of ${this.#total} exited${this.#latest}`)
  }

  clear(): void {
    this.#out.write('\r\x1b[K')
  }
}
