// spawn()'s arguments: checked with Node's error codes, then turned into the
// binding's SpawnRequest.
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { EnvVar, SpawnRequest } from '../binding'
import { StdioKind } from './binding'
import { invalidArgType, invalidArgValue } from './errors'
import { toSignalNumber, type Signal } from './signals'
import { validateCgroupOption } from './containment'
import { INT32_MAX, ownOption, validateAbortSignal, validateInt32, validateString } from './validators'
import { rejectUnknownOptions } from './unknown-options'


/** How one standard stream of the child is set up. */
export type StdioOption = 'pipe' | 'inherit' | 'ignore' | number

/** Options of {@link spawn}, named as in child_process and execa. */
export interface SpawnOptions {
  /** The working directory (default: this process's). */
  cwd?: string | URL
  /** The whole environment (default: `process.env`). */
  env?: NodeJS.ProcessEnv
  /** `argv[0]` (default: the command). */
  argv0?: string
  /** One value for all three streams or one per stream (default `'pipe'`); a number is a descriptor of this process's. */
  stdio?: StdioOption | readonly [StdioOption?, StdioOption?, StdioOption?]
  /** Start the child in a new session (`setsid`), as child_process does. */
  detached?: boolean
  /** The user to run as. */
  uid?: number
  /** The group to run as. */
  gid?: number
  /**
   * SIGKILL the child when this process dies, however it dies (a crash,
   * SIGKILL, the OOM killer), as `PR_SET_PDEATHSIG` does: set in the child
   * before it runs the command, after any `uid`/`gid` change (which would
   * clear it), and checked against this process being gone already. It is
   * tied to the thread that spawns: in a worker thread, the child dies
   * when the worker ends. A set-user-ID program run by the child clears
   * it (the kernel's rule). Alone, it covers the child, not the processes
   * the child starts; with `cgroup`, the whole contained tree is killed
   * when this process ends (a sentinel process watches for that).
   */
  killOnParentExit?: boolean
  /**
   * Start the child in a cgroup (v2) of its own: `true` under this
   * process's cgroup, or a path naming the cgroup directory to create it
   * in (one delegated to you). Nothing the child starts can leave it, so
   * `killTree()` takes setsid'd and double-forked processes too
   * (`cgroup.kill`). Where no cgroup can be made, `exited` rejects before
   * anything starts, saying why.
   */
  cgroup?: boolean | string
  /** Kill the child with `killSignal` after this many ms (0 or absent: never). */
  timeout?: number
  /** The signal for `timeout`, `signal` and disposal (default `'SIGTERM'`). */
  killSignal?: Signal
  /** Kill the child with `killSignal` when this signal aborts. */
  signal?: AbortSignal
  /** SIGKILL this many ms after killSignal if the child is still running (default 5000; `false`: never). */
  forceKillAfterDelay?: number | false
  /**
   * Run `command` (with `args` joined to it by spaces) through a shell:
   * `true` for `/bin/sh`, or a shell's path; it gets `-c` and the line, as
   * in child_process. Quote what the shell must not interpret.
   */
  shell?: boolean | string
  /**
   * Written to the child's stdin, which is then closed (as execa's `input`
   * and spawnSync's): text (UTF-8), bytes, or a stream piped in. Needs
   * stdin `'pipe'` (the default).
   */
  input?: string | NodeJS.TypedArray | Readable
}

/**
 * Whether stdio entry `E` (`undefined`: the default, `'pipe'`) makes a
 * pipe: `true`, `false`, or `boolean` when the type does not tell.
 */
type Piped<E> = [E] extends [undefined | 'pipe'] ? true : [E] extends ['inherit' | 'ignore' | number] ? false : boolean

/** The stdio entry of stream `I` (0, 1, 2) in options of type `O`. */
type StdioEntry<O, I extends 0 | 1 | 2> = 'stdio' extends keyof O ? (O extends { stdio?: infer S } ? (S extends readonly unknown[] ? S[I] : S) : undefined) : undefined

/**
 * The type of stream `I` of a child spawned with options of type `O`: `T`
 * when it is piped, `null` when it is not, `T | null` when the type of `O`
 * does not say.
 */
export type StdioStream<O, I extends 0 | 1 | 2, T> = Piped<StdioEntry<O, I>> extends true ? T : Piped<StdioEntry<O, I>> extends false ? null : T | null

/** What the Subprocess needs beyond the request. */
export interface SpawnPlan {
  request: SpawnRequest
  timeout: number
  killSignal: number
  signal: AbortSignal | undefined
  forceKillAfterDelay: number | false
  /** What to write to stdin, then close it. */
  input: string | Uint8Array | Readable | undefined
  /** Where to create the child's cgroup (null: under this process's own); undefined for none. */
  cgroup: string | null | undefined
}

/** Every option spawn() reads. */
const OPTION_NAMES = [
  'cwd',
  'env',
  'argv0',
  'stdio',
  'detached',
  'uid',
  'gid',
  'killOnParentExit',
  'cgroup',
  'timeout',
  'killSignal',
  'signal',
  'forceKillAfterDelay',
  'shell',
  'input',
] as const

/** child_process options that mean nothing on Linux: accepted and ignored (README lists them). */
const IGNORED_OPTIONS = ['windowsHide', 'windowsVerbatimArguments']

const STDIO_KINDS: readonly unknown[] = Object.values(StdioKind)

function validateMs(value: unknown, name: string): number {
  validateInt32(value, name)
  return value
}

/** A user or group ID: 0 to 2^32-2 (2^32-1 is the kernel's "no ID"). */
function validateId(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  validateInt32(value, name, 0, 2 ** 32 - 2)
  return value
}

/** A stdio entry as the binding takes it: a StdioKind, or a descriptor number. */
type StdioValue = StdioKind | number

function stdioEntry(value: unknown, name: string): StdioValue {
  if (value === undefined || value === null) return StdioKind.Pipe
  if (STDIO_KINDS.includes(value)) return value as StdioKind
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= INT32_MAX) return value
  throw invalidArgValue(name, value, "must be 'pipe', 'inherit', 'ignore' or a file descriptor")
}

function validateStdio(stdio: unknown): StdioValue[] {
  if (!Array.isArray(stdio)) {
    const entry = stdioEntry(stdio, 'options.stdio')
    return [entry, entry, entry]
  }
  if (stdio.length > 3) throw invalidArgValue('options.stdio', stdio, 'must have at most 3 entries (stdin, stdout, stderr)')
  // Own entries only: a polluted Array.prototype[1] must not pick a stream.
  return [0, 1, 2].map((i) => stdioEntry(ownOption(stdio, String(i)), `options.stdio[${i}]`))
}

/** The environment as the binding takes it: name and value pairs, joined only by the core. */
function validateEnv(env: unknown): EnvVar[] {
  if (env === null || typeof env !== 'object') throw invalidArgType('options.env', 'of type object', env)
  const vars: EnvVar[] = []
  for (const [name, raw] of Object.entries(env as Record<string, unknown>)) {
    if (raw === undefined) continue
    const value = String(raw)
    if (name.includes('\u0000') || value.includes('\u0000')) throw invalidArgValue('options.env', env, 'must contain no null bytes')
    vars.push({ name, value })
  }
  return vars
}

/** The shell to run the command line with, if any: `true` is `/bin/sh`, as in child_process. */
function validateShell(shell: unknown): string | undefined {
  if (shell === undefined || shell === false) return undefined
  if (shell === true) return '/bin/sh'
  if (typeof shell !== 'string') throw invalidArgType('options.shell', 'of type boolean or string', shell)
  if (shell.length === 0) throw invalidArgValue('options.shell', shell, 'cannot be empty')
  return validateString(shell, 'options.shell')
}

/** The input as text, bytes (any TypedArray, seen as its bytes) or a stream. */
function validateInput(input: unknown): SpawnPlan['input'] {
  if (input === undefined || typeof input === 'string' || input instanceof Uint8Array || input instanceof Readable) return input
  if (ArrayBuffer.isView(input) && !(input instanceof DataView)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
  throw invalidArgType('options.input', 'of type string or an instance of Buffer, TypedArray or stream.Readable', input)
}

/** Checks spawn()'s arguments; throws TypeError/RangeError with ERR_* codes. */
export function planSpawn(command: unknown, args: unknown, options: unknown): SpawnPlan {
  const file = validateString(command, 'command')
  if (file.length === 0) throw invalidArgValue('command', file, 'cannot be empty')
  if (args !== undefined && !Array.isArray(args)) throw invalidArgType('args', 'an instance of Array', args)
  // Every index read as an own property: a hole is not filled from a polluted Array.prototype.
  const list = (args ?? []) as unknown[]
  const argv = Array.from({ length: list.length }, (_, i) => validateString(ownOption(list, String(i)), `args[${i}]`))
  if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgType('options', 'of type object', options)
  // Own properties only (see ownOption), each read once: a getter cannot
  // give one value to the check and another to the child.
  rejectUnknownOptions(options as object | undefined, 'spawn()', OPTION_NAMES, IGNORED_OPTIONS)
  const o: Record<string, unknown> = Object.create(null)
  for (const key of OPTION_NAMES) o[key] = ownOption(options as object | undefined, key)
  const shell = validateShell(o.shell)
  const input = validateInput(o.input)
  let cwd: string | undefined
  if (o.cwd instanceof URL) {
    if (o.cwd.protocol !== 'file:') throw invalidArgValue('options.cwd', o.cwd, 'must be a file URL')
    // Node's rules and errors, as child_process: a host other than
    // localhost (ERR_INVALID_FILE_URL_HOST), an encoded '/'
    // (ERR_INVALID_FILE_URL_PATH); an encoded NUL fails the check below.
    cwd = validateString(fileURLToPath(o.cwd), 'options.cwd')
  } else if (o.cwd !== undefined) {
    cwd = validateString(o.cwd, 'options.cwd')
  }
  const argv0 = o.argv0 === undefined ? undefined : validateString(o.argv0, 'options.argv0')
  if (o.detached !== undefined && typeof o.detached !== 'boolean') throw invalidArgType('options.detached', 'of type boolean', o.detached)
  if (o.killOnParentExit !== undefined && typeof o.killOnParentExit !== 'boolean') throw invalidArgType('options.killOnParentExit', 'of type boolean', o.killOnParentExit)
  validateAbortSignal(o.signal, 'options.signal')
  const forceKill = o.forceKillAfterDelay
  if (forceKill !== undefined && forceKill !== false && typeof forceKill !== 'number') {
    throw invalidArgType('options.forceKillAfterDelay', 'of type number or false', forceKill)
  }
  const stdio = validateStdio(o.stdio)
  if (input !== undefined && stdio[0] !== StdioKind.Pipe) throw invalidArgValue('options.input', input, "cannot be used unless stdin is 'pipe'")
  // With a shell, the command and its arguments are one line for `sh -c`.
  const line = shell === undefined ? undefined : [file, ...argv].join(' ')
  return {
    input,
    cgroup: validateCgroupOption(o.cgroup),
    request: {
      file: shell ?? file,
      args: line === undefined ? argv : ['-c', line],
      argv0,
      env: validateEnv(o.env ?? process.env),
      cwd,
      stdio,
      detached: o.detached === true,
      uid: validateId(o.uid, 'options.uid'),
      gid: validateId(o.gid, 'options.gid'),
      killOnParentExit: o.killOnParentExit === true,
    },
    timeout: o.timeout === undefined ? 0 : validateMs(o.timeout, 'options.timeout'),
    killSignal: o.killSignal === undefined ? toSignalNumber('SIGTERM') : toSignalNumber(o.killSignal),
    signal: o.signal as AbortSignal | undefined,
    forceKillAfterDelay: forceKill === false ? false : forceKill === undefined ? 5000 : validateMs(forceKill, 'options.forceKillAfterDelay'),
  }
}
