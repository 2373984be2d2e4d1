// Signal names and numbers: Node's table, plus the real-time signals.
import { constants } from 'node:os'
import { invalidArgType, unknownSignal } from './errors'

// glibc reserves 32 and 33; 34..64 are SIGRTMIN..SIGRTMAX.
const SIGRTMIN = 34
const SIGRTMAX = 64

/** A real-time signal by name: `'SIGRTMIN'`, `'SIGRTMIN+3'`, `'SIGRTMAX'`. */
export type RealtimeSignal = 'SIGRTMIN' | `SIGRTMIN+${number}` | 'SIGRTMAX'

/**
 * A signal pidset can send: a name Node knows (`NodeJS.Signals`), a
 * real-time signal by name, or a number from 0 to 64 (0 sends nothing and
 * only checks that a signal could be sent).
 */
export type Signal = NodeJS.Signals | RealtimeSignal | `SIG${number}` | number

/**
 * The name of a signal that ended a process: a name Node knows, a real-time
 * signal as `'SIGRTMIN+n'`, or `'SIG<n>'` for a number no name belongs to
 * (32 and 33, which glibc reserves).
 */
export type SignalName = NodeJS.Signals | `SIGRTMIN+${number}` | `SIG${number}`

const names = new Map<number, string>()
for (const [name, number] of Object.entries(constants.signals)) {
  // The first name wins, so aliases (SIGIOT, SIGPOLL) do not replace SIGABRT, SIGIO.
  if (!names.has(number)) names.set(number, name)
}

/** The name of signal `number`: `'SIGKILL'`, `'SIGRTMIN+2'`. */
export function signalName(number: number): SignalName {
  const known = names.get(number) as NodeJS.Signals | undefined
  if (known !== undefined) return known
  if (number >= SIGRTMIN && number <= SIGRTMAX) return `SIGRTMIN+${number - SIGRTMIN}`
  return `SIG${number}`
}

/**
 * The number of a signal given by name ('SIGTERM', 'SIGRTMIN+1', 'SIG32':
 * every name {@link signalName} gives) or number
 * (0 to 64; 0 sends nothing and only checks). Throws ERR_UNKNOWN_SIGNAL for
 * anything else of those types, ERR_INVALID_ARG_TYPE for other types.
 */
export function toSignalNumber(signal: unknown): number {
  if (typeof signal === 'number') {
    if (Number.isInteger(signal) && signal >= 0 && signal <= SIGRTMAX) return signal
    throw unknownSignal(signal)
  }
  if (typeof signal !== 'string') throw invalidArgType('signal', 'of type string or number', signal)
  // Own names only (Node's table has no prototype today; a polluted one must not count).
  const known = Object.hasOwn(constants.signals, signal) ? (constants.signals as Record<string, number>)[signal] : undefined
  if (known !== undefined) return known
  // 'SIG32': how signalName() names a signal no name belongs to, so that an
  // exit's signal can always be sent again.
  const numbered = /^SIG([1-9]\d?)$/.exec(signal)
  if (numbered && Number(numbered[1]) <= SIGRTMAX) return Number(numbered[1])
  const rt = /^SIGRTMIN\+(\d{1,2})$/.exec(signal)
  if (rt && SIGRTMIN + Number(rt[1]) <= SIGRTMAX) return SIGRTMIN + Number(rt[1])
  if (signal === 'SIGRTMIN') return SIGRTMIN
  if (signal === 'SIGRTMAX') return SIGRTMAX
  throw unknownSignal(signal)
}
