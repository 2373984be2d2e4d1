// What every `pidset` command shares: its exit statuses, usage errors, and
// how exits are described.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { ExitInfo } from './exit-info'

/** Exit statuses, as timeout(1) and shells use them. */
export const STATUS = { ok: 0, failed: 1, usage: 2, timedOut: 124 } as const

/** A mistake on the command line: one line to stderr, status 2. */
export class UsageError extends Error {}

/** A failure that is not the user's typing: one line to stderr, status 1. */
export class CommandError extends Error {}

/** node:util's parseArgs, its errors made usage errors (their message is one line already). */
export function parse<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** PID arguments, each checked to be a positive integer. */
export function pidsOf(values: string[], what = 'PID'): number[] {
  if (values.length === 0) throw new UsageError(`at least one ${what} is needed`)
  return values.map((value) => {
    const pid = Number(value)
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(pid) || pid < 1 || pid > 2 ** 31 - 1) throw new UsageError(`not a PID: '${value}'`)
    return pid
  })
}

/** A number of seconds from `--timeout`; 0 means none (Node's convention). */
export function secondsOf(value: string | undefined, option: string): number {
  if (value === undefined) return 0
  const seconds = Number(value)
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds * 1000 > 2 ** 31 - 1) throw new UsageError(`${option} takes a number of seconds, not '${value}'`)
  return seconds
}

/** A number of milliseconds from an option such as `--force-after`. */
export function millisecondsOf(value: string | undefined, option: string): number {
  if (value === undefined) return 0
  const ms = Number(value)
  if (!/^\d+$/.test(value) || ms > 2 ** 31 - 1) throw new UsageError(`${option} takes a whole number of milliseconds, not '${value}'`)
  return ms
}

/** How a process ended, in words. */
export function describeExit(exit: ExitInfo): string {
  if (exit.signal !== null) return `killed by ${exit.signal}${exit.coreDumped ? ' (core dumped)' : ''}`
  if (exit.exitCode !== null) return `exited with code ${exit.exitCode}`
  return 'exited (its status is not known here)'
}

/** The status a shell gives for `exit`: its code, or 128 + the signal's number. */
export function shellStatus(exit: ExitInfo, signals: Record<string, number>): number {
  if (exit.signal !== null) return 128 + (signals[exit.signal] ?? 0)
  return exit.exitCode ?? STATUS.failed
}

/** A signal as kill(1) takes it: `TERM`, `SIGTERM`, `term` or `15`. */
export function signalOf(value: string | undefined, fallback: string): string | number {
  if (value === undefined) return fallback
  if (/^\d+$/.test(value)) return Number(value)
  const name = value.toUpperCase()
  return name.startsWith('SIG') ? name : `SIG${name}`
}
