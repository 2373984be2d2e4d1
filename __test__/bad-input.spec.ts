// Wrong inputs to every public function and option, each checked for the
// exact error class and code (thrown, or rejected by the async ones), and
// the process checked healthy afterwards: same descriptors, and real work
// still done right.
import { spawn as cpSpawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { PidFd, PidSet, Subprocess, peerPidFd, spawn } from '../index'
import { openedOnceForGood, openFds, ROOT, runNode } from './helpers'

interface Case {
  name: string
  call: () => unknown
  error: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor
  code: string
}

const TYPE = { error: TypeError, code: 'ERR_INVALID_ARG_TYPE' } as const
const RANGE = { error: RangeError, code: 'ERR_OUT_OF_RANGE' } as const
const VALUE = { error: TypeError, code: 'ERR_INVALID_ARG_VALUE' } as const
const SIGNAL = { error: TypeError, code: 'ERR_UNKNOWN_SIGNAL' } as const
const THIS = { error: TypeError, code: 'ERR_INVALID_THIS' } as const
const CLOSED = { error: Error, code: 'EBADF' } as const

/** Values that are not numbers at all. */
const NOT_NUMBERS: Array<[string, unknown]> = [
  ['a string', '1'],
  ['null', null],
  ['true', true],
  ['an object', {}],
  ['an array', [1]],
  ['a function', () => 1],
  ['a symbol', Symbol('s')],
  ['a bigint', 1n],
  ['a Number object', new Number(5)],
  ['an object with valueOf', { valueOf: () => 5 }],
]
/** Numbers no PID can be. */
const BAD_PIDS: Array<[string, number]> = [
  ['0', 0],
  ['-0', -0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2**31', 2 ** 31],
  ['2**53', 2 ** 53],
  ['-2**31', -(2 ** 31)],
  ['MIN_VALUE', Number.MIN_VALUE],
]
/** Timeouts out of range (ms, 0 to 2**31-1). */
const BAD_TIMEOUTS: Array<[string, number]> = [
  ['-1', -1],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2**31', 2 ** 31],
  ['2**53', 2 ** 53],
]
/** Signals that do not exist. */
const BAD_SIGNAL_VALUES: Array<[string, unknown]> = [
  ['SIGFOO', 'SIGFOO'],
  ['an empty string', ''],
  ['lower case', 'sigterm'],
  ['no SIG prefix', 'TERM'],
  ['SIGRTMIN+99', 'SIGRTMIN+99'],
  ['-1', -1],
  ['65', 65],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['2**31', 2 ** 31],
]
const BAD_SIGNAL_TYPES: Array<[string, unknown]> = [
  ['null', null],
  ['true', true],
  ['an object', {}],
  ['a symbol', Symbol('s')],
  ['a bigint', 15n],
  ['an object with valueOf', { valueOf: () => 15 }],
]

/** Wait options that are wrong, for any of wait(), waitAny(), waitAll(). */
function waitOptionCases(name: string, wait: (options: unknown) => unknown): Case[] {
  const cases: Case[] = []
  for (const [what, value] of [['a string', 'x'], ['a number', 1], ['true', true], ['a symbol', Symbol('s')], ['a bigint', 1n], ['null', null]] as const) {
    cases.push({ name: `${name}(${what})`, call: () => wait(value), ...TYPE })
  }
  for (const [what, value] of NOT_NUMBERS.filter(([, v]) => v !== undefined)) {
    cases.push({ name: `${name}({ timeout: ${what} })`, call: () => wait({ timeout: value }), ...TYPE })
  }
  for (const [what, value] of BAD_TIMEOUTS) cases.push({ name: `${name}({ timeout: ${what} })`, call: () => wait({ timeout: value }), ...RANGE })
  for (const [what, value] of [
    ['an object', {}],
    ['a string', 'x'],
    ['an AbortSignal look-alike', { aborted: false, addEventListener() {}, removeEventListener() {} }],
    ['an EventTarget', new EventTarget()],
    ['an AbortController', new AbortController()],
    ['null', null],
  ] as const) {
    cases.push({ name: `${name}({ signal: ${what} })`, call: () => wait({ signal: value }), ...TYPE })
  }
  return cases
}

function spawnCases(): Case[] {
  const cases: Case[] = []
  const run = (args: unknown[]) => () => (spawn as (...a: unknown[]) => unknown)(...args)
  for (const [what, value] of NOT_NUMBERS.concat([['a number', 1], ['undefined', undefined]])) {
    if (typeof value === 'string') continue
    cases.push({ name: `spawn(${what})`, call: run([value]), ...TYPE })
  }
  cases.push({ name: "spawn('')", call: run(['']), ...VALUE })
  cases.push({ name: 'spawn(a null byte)', call: run(['a\0b']), ...VALUE })
  for (const [what, value] of [['a string', 'x'], ['an object', {}], ['a number', 1], ['null', null]] as const) {
    cases.push({ name: `spawn('true', ${what})`, call: run(['true', value]), ...TYPE })
  }
  for (const [what, value] of [['a number', 1], ['null', null], ['an object', {}], ['a symbol', Symbol('s')]] as const) {
    cases.push({ name: `spawn('true', [${what}])`, call: run(['true', [value]]), ...TYPE })
  }
  cases.push({ name: "spawn('true', [a null byte])", call: run(['true', ['a\0']]), ...VALUE })
  for (const [what, value] of [['a string', 'x'], ['a number', 1], ['true', true], ['null', null]] as const) {
    cases.push({ name: `spawn('true', [], ${what})`, call: run(['true', [], value]), ...TYPE })
  }
  const option = (name: string, value: unknown, expected: { error: Case['error']; code: string }) =>
    cases.push({ name: `spawn('true', [], { ${name}: ${typeof value === 'symbol' ? 'a symbol' : typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value)} })`, call: run(['true', [], { [name]: value }]), ...expected })
  for (const value of [1, true, {}, null, Symbol('s')]) option('cwd', value, TYPE)
  option('cwd', new URL('http://example.com/'), VALUE)
  option('cwd', 'a\0b', VALUE)
  // env: null means process.env, as in child_process.
  for (const value of [1, 'x', true]) option('env', value, TYPE)
  option('env', { A: 'b\0' }, VALUE)
  for (const value of [1, true, {}, null]) option('argv0', value, TYPE)
  for (const value of ['overlapped', 'PIPE', -1, 1.5, 2 ** 31, {}, true, ['pipe', 'pipe', 'pipe', 'pipe']]) option('stdio', value, VALUE)
  for (const value of ['yes', 1, {}, null]) option('detached', value, TYPE)
  for (const name of ['uid', 'gid']) {
    for (const value of ['0', null, true, {}, 1n]) option(name, value, TYPE)
    for (const value of [-1, 1.5, NaN, Infinity, 2 ** 32, -0.5]) option(name, value, RANGE)
  }
  for (const value of ['1', true, {}, null, 1n]) option('timeout', value, TYPE)
  for (const value of [-1, 1.5, NaN, Infinity, 2 ** 31]) option('timeout', value, RANGE)
  for (const value of ['SIGFOO', '', -1, 65, 1.5]) option('killSignal', value, SIGNAL)
  for (const value of [{}, true, null]) option('killSignal', value, TYPE)
  for (const value of [{}, 'x', 1, new EventTarget()]) option('signal', value, TYPE)
  for (const value of ['soon', true, {}, null]) option('forceKillAfterDelay', value, TYPE)
  for (const value of [-1, 1.5, NaN, Infinity, 2 ** 31]) option('forceKillAfterDelay', value, RANGE)
  return cases
}

/** Every case, built around live handles that the test closes after. */
function allCases(pidfd: PidFd, closed: PidFd, set: PidSet, closedSet: PidSet, child: ReturnType<typeof spawn>): Case[] {
  const cases: Case[] = []
  for (const [what, value] of NOT_NUMBERS) cases.push({ name: `PidFd.open(${what})`, call: () => PidFd.open(value as number), ...TYPE })
  cases.push({ name: 'PidFd.open()', call: () => (PidFd.open as () => unknown)(), ...TYPE })
  for (const [what, value] of BAD_PIDS) cases.push({ name: `PidFd.open(${what})`, call: () => PidFd.open(value), ...RANGE })
  for (const [what, value] of BAD_SIGNAL_VALUES) {
    cases.push({ name: `pidfd.kill(${what})`, call: () => pidfd.kill(value as number), ...SIGNAL })
    cases.push({ name: `subprocess.kill(${what})`, call: () => child.kill(value as number), ...SIGNAL })
  }
  for (const [what, value] of BAD_SIGNAL_TYPES) {
    cases.push({ name: `pidfd.kill(${what})`, call: () => pidfd.kill(value as number), ...TYPE })
    cases.push({ name: `subprocess.kill(${what})`, call: () => child.kill(value as number), ...TYPE })
  }
  cases.push(...waitOptionCases('pidfd.wait', (o) => pidfd.wait(o as object)))
  cases.push(...waitOptionCases('set.waitAny', (o) => set.waitAny(o as object)))
  cases.push(...waitOptionCases('set.waitAnyMember', (o) => set.waitAnyMember(o as object)))
  cases.push(...waitOptionCases('set.waitAll', (o) => set.waitAll(o as object)))
  // Members of a set.
  for (const [what, value] of NOT_NUMBERS) cases.push({ name: `set.add(${what})`, call: () => set.add(value as number), ...TYPE })
  for (const [what, value] of BAD_PIDS) cases.push({ name: `set.add(${what})`, call: () => set.add(value), ...RANGE })
  for (const [what, value] of [['a symbol', Symbol('s')], ['null', null], ['an object', {}]] as const) {
    cases.push({ name: `set.delete(${what})`, call: () => set.delete(value as unknown as number), ...TYPE })
    cases.push({ name: `set.has(${what})`, call: () => set.has(value as unknown as number), ...TYPE })
  }
  for (const [what, value] of [['a number', 1], ['true', true], ['an object', {}], ['a symbol', Symbol('s')]] as const) {
    cases.push({ name: `new PidSet(${what})`, call: () => new PidSet(value as unknown as number[]), ...TYPE })
  }
  cases.push({ name: "new PidSet(['1'])", call: () => new PidSet(['1' as unknown as number]), ...TYPE })
  cases.push({ name: 'new PidSet([0])', call: () => new PidSet([0]), ...RANGE })
  cases.push({ name: 'new PidSet([a closed PidFd])', call: () => new PidSet([closed]), ...CLOSED })
  cases.push({ name: 'set.add(a closed PidFd)', call: () => set.add(closed), ...CLOSED })
  // PidFd.fromChild.
  for (const [what, value] of [['null', null], ['a number', 1], ['a string', 'x'], ['an object', {}], ['a PidFd', pidfd]] as const) {
    cases.push({ name: `PidFd.fromChild(${what})`, call: () => PidFd.fromChild(value as never), ...TYPE })
  }
  // Its pid checked as PidFd.open() checks one: 2**32 + a real PID once wrapped to that PID.
  for (const [what, value] of [['2**32 + a real PID', 2 ** 32 + child.pid!], ['1.5', 1.5], ['NaN', NaN], ['0', 0]] as const) {
    cases.push({ name: `PidFd.fromChild({ pid: ${what} })`, call: () => PidFd.fromChild({ pid: value, exitCode: null, signalCode: null }), ...RANGE })
  }
  cases.push({ name: "PidFd.fromChild({ pid: '1' })", call: () => PidFd.fromChild({ pid: '1' as never, exitCode: null, signalCode: null }), ...TYPE })
  // output().
  for (const [what, value] of [['a string', 'x'], ['a number', 1], ['null', null]] as const) {
    cases.push({ name: `output(${what})`, call: () => child.output(value as unknown as object), ...TYPE })
  }
  cases.push({ name: "output({ encoding: 'utf9' })", call: () => child.output({ encoding: 'utf9' as BufferEncoding }), error: TypeError, code: 'ERR_UNKNOWN_ENCODING' })
  for (const value of ['1', null, {}, 1n]) cases.push({ name: `output({ maxBuffer: ${String(value)} })`, call: () => child.output({ maxBuffer: value as number }), ...TYPE })
  for (const value of [-1, NaN, -Infinity]) cases.push({ name: `output({ maxBuffer: ${value} })`, call: () => child.output({ maxBuffer: value }), ...RANGE })
  // Descriptor numbers, namespace kinds, kill() scopes, other handles and sockets.
  const BAD_FDS: Array<[string, number]> = [['-1', -1], ['1.5', 1.5], ['NaN', NaN], ['Infinity', Infinity], ['2**31', 2 ** 31]]
  for (const [what, value] of NOT_NUMBERS) {
    cases.push({ name: `PidFd.fromFd(${what})`, call: () => PidFd.fromFd(value as number), ...TYPE })
    cases.push({ name: `pidfd.getFd(${what})`, call: () => pidfd.getFd(value as number), ...TYPE })
  }
  for (const [what, value] of BAD_FDS) {
    cases.push({ name: `PidFd.fromFd(${what})`, call: () => PidFd.fromFd(value), ...RANGE })
    cases.push({ name: `pidfd.getFd(${what})`, call: () => pidfd.getFd(value), ...RANGE })
  }
  for (const value of [1, null, {}, Symbol('s')]) cases.push({ name: `pidfd.namespace(${String(value)})`, call: () => pidfd.namespace(value as never), ...TYPE })
  for (const value of ['', 'NET', 'network', 'pid_for_child']) cases.push({ name: `pidfd.namespace('${value}')`, call: () => pidfd.namespace(value as never), ...VALUE })
  for (const value of ['', 'group', 'Process', 1, null]) cases.push({ name: `pidfd.kill('SIGTERM', { scope: ${String(value)} })`, call: () => pidfd.kill('SIGTERM', { scope: value as never }), ...VALUE })
  for (const value of ['process', 1, true]) cases.push({ name: `pidfd.kill('SIGTERM', ${String(value)})`, call: () => pidfd.kill('SIGTERM', value as never), ...TYPE })
  for (const [what, value] of [['null', null], ['a number', 1], ['an object', {}], ['a PidSet', set]] as const) {
    cases.push({ name: `pidfd.equals(${what})`, call: () => pidfd.equals(value as never), ...TYPE })
    cases.push({ name: `peerPidFd(${what})`, call: () => peerPidFd(value as never), ...TYPE })
  }
  // A closed handle or set: EBADF from everything but close() itself.
  cases.push({ name: 'closed.wait()', call: () => closed.wait(), ...CLOSED })
  cases.push({ name: 'closed.tryWait()', call: () => closed.tryWait(), ...CLOSED })
  cases.push({ name: 'closed.isRunning()', call: () => closed.isRunning(), ...CLOSED })
  cases.push({ name: 'closed.kill()', call: () => closed.kill(), ...CLOSED })
  cases.push({ name: 'closed.info()', call: () => closed.info(), ...CLOSED })
  cases.push({ name: 'closed.id', call: () => closed.id, ...CLOSED })
  cases.push({ name: 'closed.getFd(0)', call: () => closed.getFd(0), ...CLOSED })
  cases.push({ name: "closed.namespace('net')", call: () => closed.namespace('net'), ...CLOSED })
  cases.push({ name: 'closed.equals(pidfd)', call: () => closed.equals(pidfd), ...CLOSED })
  cases.push({ name: 'pidfd.equals(closed)', call: () => pidfd.equals(closed), ...CLOSED })
  cases.push({ name: 'closedSet.add(pid)', call: () => closedSet.add(process.pid), ...CLOSED })
  cases.push({ name: 'closedSet.waitAny()', call: () => closedSet.waitAny(), ...CLOSED })
  cases.push({ name: 'closedSet.waitAll()', call: () => closedSet.waitAll(), ...CLOSED })
  // Constructors and methods on the wrong `this`.
  cases.push({ name: 'new PidFd()', call: () => new (PidFd as unknown as new () => unknown)(), error: TypeError, code: 'ERR_ILLEGAL_CONSTRUCTOR' })
  cases.push({ name: 'new Subprocess()', call: () => new (Subprocess as unknown as new () => unknown)(), error: TypeError, code: 'ERR_ILLEGAL_CONSTRUCTOR' })
  cases.push({ name: 'pidfd.equals(a look-alike)', call: () => pidfd.equals(Object.create(PidFd.prototype) as PidFd), ...TYPE })
  const strangers: Array<[string, unknown]> = [['an object', {}], ['Object.create(PidFd.prototype)', Object.create(PidFd.prototype)], ['a PidSet', set]]
  for (const method of ['wait', 'tryWait', 'isRunning', 'kill', 'close', 'ref', 'unref', 'info', 'getFd', 'namespace', 'equals'] as const) {
    for (const [what, self] of strangers) {
      cases.push({ name: `PidFd.prototype.${method}.call(${what})`, call: () => (PidFd.prototype[method] as (...a: unknown[]) => unknown).call(self), ...THIS })
    }
  }
  for (const method of ['add', 'delete', 'has', 'waitAny', 'waitAnyMember', 'waitAll', 'close', 'ref', 'unref'] as const) {
    for (const [what, self] of [['an object', {}], ['a PidFd', pidfd]] as const) {
      cases.push({ name: `PidSet.prototype.${method}.call(${what})`, call: () => (PidSet.prototype[method] as (...a: unknown[]) => unknown).call(self, 1), ...THIS })
    }
  }
  for (const method of ['kill', 'output', 'ref', 'unref'] as const) {
    cases.push({ name: `Subprocess.prototype.${method}.call(a PidFd)`, call: () => (Subprocess.prototype[method] as (...a: unknown[]) => unknown).call(pidfd), ...THIS })
  }
  cases.push({ name: 'Subprocess.prototype[Symbol.asyncDispose].call({})', call: () => Subprocess.prototype[Symbol.asyncDispose].call({} as Subprocess), ...THIS })
  cases.push(...spawnCases())
  return cases
}

/** Exactly that class (not a subclass, not a plain Error for a TypeError) and code. */
function matches(outcome: unknown, c: Case): boolean {
  return outcome instanceof Error && outcome.constructor === c.error && (outcome as { code?: unknown }).code === c.code
}

function describe(outcome: unknown): string {
  if (!(outcome instanceof Error)) return `no error: ${JSON.stringify(outcome)}`
  return `${outcome.constructor.name} ${String((outcome as { code?: unknown }).code)} (${outcome.message})`
}

test('at least 200 wrong inputs across the API: each the exact class and code, and the process healthy after', async (t) => {
  t.timeout(60_000)
  await openedOnceForGood()
  const before = openFds()
  const sleeper = cpSpawn('sleep', ['1000'], { stdio: 'ignore' })
  const pidfd = PidFd.open(sleeper.pid as number)
  const closed = PidFd.open(sleeper.pid as number)
  closed.close()
  closed.close() // twice: no error
  const set = new PidSet([pidfd])
  const closedSet = new PidSet()
  closedSet.close()
  closedSet.close()
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' })
  const cases = allCases(pidfd, closed, set, closedSet, child)
  const wrong: string[] = []
  for (const c of cases) {
    let outcome: unknown
    try {
      const value = c.call()
      // A rejection comes at once; a promise still pending after a moment
      // (a wait that took its options as valid) is a wrong outcome too.
      const pending = new Promise((resolve) => setTimeout(resolve, 200, { pending: true }))
      outcome = value instanceof Promise ? await Promise.race([value.then((v) => ({ returned: v }), (e: unknown) => e), pending]) : { returned: value }
    } catch (err) {
      outcome = err
    }
    if (!matches(outcome, c)) wrong.push(`${c.name}: expected ${c.error.name} ${c.code}, got ${describe(outcome)}`)
  }
  t.log(`${cases.length} wrong inputs tried`)
  t.deepEqual(wrong, [])
  t.true(cases.length >= 200)
  // Healthy: nothing started, nothing leaked, and real work still right.
  t.is(set.size, 1)
  t.true(pidfd.isRunning())
  const wait = set.waitAny()
  t.true(pidfd.kill('SIGKILL'))
  t.is((await wait).signal, 'SIGKILL')
  child.kill('SIGKILL')
  t.is((await child.exited).signal, 'SIGKILL')
  const echo = spawn('echo', ['still fine'])
  t.is((await echo.output()).stdout, 'still fine\n')
  echo.pidfd?.close()
  pidfd.close()
  child.pidfd?.close()
  set.close()
  // Code awaiting an exit runs inside the native dispatch that reported it,
  // which lets go of its share of the descriptor when it returns.
  await new Promise(setImmediate)
  t.is(openFds(), before)
})

test('options inherited from a polluted Object.prototype are never honoured', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-polluted-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const evil = join(dir, 'evil.cjs')
  writeFileSync(evil, 'console.log("EVIL")\n')
  const ran = await runNode([join(__dirname, 'fixtures', 'polluted.cjs'), evil])
  t.is(ran.code, 0, ran.stderr)
  t.log(ran.stdout.trim())
  const report = JSON.parse(ran.stdout) as Record<string, unknown>
  const uid = process.getuid?.() ?? -1
  const gid = process.getgid?.() ?? -1
  for (const name of ['no options', 'empty options']) {
    t.true(report[`${name}: signal 0`], `${name}: kill(0, {}) reached the child itself`)
    t.deepEqual(report[name], {
      line: `clean ${uid} ${gid} ${ROOT} <pid>`,
      exitCode: 3,
      timedOut: false,
      stderr: '',
      waited: 3,
      any: 3,
    })
  }
  t.is(report.node, 'node child ran')
})
