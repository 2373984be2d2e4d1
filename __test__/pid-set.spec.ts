import test from 'ava'
import { PidFd, PidSet, spawn, type ExitInfo, type PidsetSystemError } from '../index'
import { assertChildStatus, exists, NO_SUCH_PID, openFds, sh, sleeper } from './helpers'

test('a set is built from pids and PidFds and iterates its members', (t) => {
  const a = sleeper(t)
  const b = sleeper(t)
  const own = PidFd.open(b.pid)
  const set = new PidSet([a.pid, own])
  t.is(set.size, 2)
  t.true(set.has(a.pid))
  t.true(set.has(b.pid))
  t.true(set.has(own))
  t.true(set.has(PidFd.open(b.pid)), 'another handle to the member process (equals(), not the PID)')
  t.deepEqual([...set.values()].map((m) => m.pid).sort(), [a.pid, b.pid].sort())
  t.is<PidFd | undefined, PidFd | undefined>(set.add(a.pid), [...set.values()].find((m) => m.pid === a.pid), 'adding a pid twice returns the member')
  t.is(set.size, 2)
  const snapshot = set.values()
  set.delete(a.pid)
  t.deepEqual([...snapshot].map((m) => m.pid).sort(), [a.pid, b.pid].sort(), 'values() is the members when it was called')
  t.throws(() => [...(set as unknown as Iterable<PidFd>)], { instanceOf: TypeError }, 'a set is async-iterable only')
  set.close()
  t.false(own.closed, 'the caller still owns the PidFd it added')
  own.close()
})

test('waitAny() reports the first to exit, which leaves the set and is closed if the set opened it', async (t) => {
  const slow = sleeper(t)
  const quick = sleeper(t)
  const set = new PidSet([slow.pid, quick.pid])
  const quickFd = [...set.values()].find((m) => m.pid === quick.pid)
  const pending = set.waitAny()
  quick.proc.kill('SIGTERM')
  const first = await pending
  t.is(first.pid, quick.pid)
  assertChildStatus(t, first.signal, 'SIGTERM')
  t.false(set.has(quick.pid))
  t.is(set.size, 1)
  t.true(quickFd?.closed)
  slow.proc.kill('SIGKILL')
  t.is((await set.waitAny()).pid, slow.pid)
  t.is(set.size, 0)
  await t.throwsAsync(set.waitAny(), { code: 'ERR_PIDSET_EMPTY' })
  set.close()
})

test('waitAll() reports every member in the order they exited', async (t) => {
  const children = Array.from({ length: 6 }, () => sleeper(t))
  const set = new PidSet(children.map((c) => c.pid))
  const all = set.waitAll()
  // Kill them in a shuffled order, each after the last one's exit is seen.
  const order = [3, 0, 5, 1, 4, 2].map((i) => children[i])
  for (const child of order) {
    child.proc.kill('SIGKILL')
    await child.exited
  }
  const infos = await all
  t.deepEqual(infos.map((i) => i.pid), order.map((c) => c.pid))
  for (const info of infos) assertChildStatus(t, info.signal, 'SIGKILL', `signal of ${info.pid}`)
  t.is(set.size, 0)
  t.deepEqual(await set.waitAll(), [])
  set.close()
})

test('exit codes and signals of many members, through async iteration', async (t) => {
  const children = Array.from({ length: 20 }, (_, i) => sh(t, `exit ${i}`))
  const set = new PidSet(children.map((c) => c.pid))
  const seen = new Map<number, number | null>()
  // The cast works around a TypeScript (5.9) quirk: once a program has used a
  // class's sync iterator, for-await over it is typed by that one instead.
  for await (const info of set as AsyncIterable<ExitInfo>) seen.set(info.pid, info.exitCode)
  t.is(set.size, 0)
  t.deepEqual([...seen.keys()].sort(), children.map((c) => c.pid).sort())
  children.forEach((c, i) => assertChildStatus(t, seen.get(c.pid), i, `exit code of ${c.pid}`))
  set.close()
})

test('add() during a pending waitAny() is watched too', async (t) => {
  const slow = sleeper(t)
  const set = new PidSet([slow.pid])
  const pending = set.waitAny()
  const quick = sh(t, 'exit 9')
  set.add(quick.pid)
  const info = await pending
  t.is(info.pid, quick.pid)
  assertChildStatus(t, info.exitCode, 9)
  t.true(set.has(slow.pid))
  set.close()
})

test('delete() during a pending waitAny(): others still count, an empty set rejects', async (t) => {
  const a = sleeper(t)
  const b = sleeper(t)
  const own = PidFd.open(b.pid)
  const set = new PidSet([a.pid, own])
  const aFd = [...set.values()].find((m) => m.pid === a.pid)
  const pending = set.waitAny()
  t.true(set.delete(a.pid))
  t.false(set.delete(a.pid))
  t.true(aFd?.closed, 'the set closes what it opened')
  b.proc.kill('SIGKILL')
  t.is((await pending).pid, b.pid)
  t.false(own.closed, 'but not what it was given')

  const c = sleeper(t)
  const last = set.add(c.pid)
  const orphaned = set.waitAny()
  t.true(set.delete(last))
  await t.throwsAsync(orphaned, { code: 'ERR_PIDSET_EMPTY' })
  t.true(exists(c.pid), 'deleting never touches the process')
  own.close()
  set.close()
})

test('a deleted member that exits is not reported', async (t) => {
  const a = sh(t, 'exit 1')
  const b = sleeper(t)
  const set = new PidSet([a.pid, b.pid])
  set.delete(a.pid)
  await a.exited
  const pending = set.waitAny()
  b.proc.kill('SIGKILL')
  t.is((await pending).pid, b.pid)
  set.close()
})

test('timeouts and aborts reject waitAny()/waitAll() and remove nothing', async (t) => {
  const a = sleeper(t)
  const set = new PidSet([a.pid])
  await t.throwsAsync(set.waitAny({ timeout: 10 }), { code: 'ETIMEDOUT' })
  await t.throwsAsync(set.waitAll({ timeout: 10 }), { code: 'ETIMEDOUT' })
  const controller = new AbortController()
  const pending = set.waitAll({ signal: controller.signal })
  controller.abort('enough')
  const err = await t.throwsAsync(pending, { name: 'AbortError', code: 'ABORT_ERR' })
  t.is(err?.cause, 'enough')
  t.true(set.has(a.pid))
  t.is(set.size, 1)
  a.proc.kill('SIGKILL')
  t.is((await set.waitAll())[0].pid, a.pid)
  set.close()
})

test('close() rejects pending waits with EBADF and closes only what it opened', async (t) => {
  const a = sleeper(t)
  const b = sleeper(t)
  const given = PidFd.open(b.pid)
  const set = new PidSet([a.pid, given])
  const opened = [...set.values()].find((m) => m.pid === a.pid)
  const pending = [set.waitAny(), set.waitAll()]
  set.close()
  for (const wait of pending) await t.throwsAsync(wait, { code: 'EBADF' })
  t.true(opened?.closed)
  t.false(given.closed)
  t.throws(() => set.add(a.pid), { code: 'EBADF' })
  await t.throwsAsync(set.waitAny(), { code: 'EBADF' })
  t.notThrows(() => set.close())
  t.true(exists(a.pid))
  given.close()
})

test('closing a member PidFd takes it out of the set', async (t) => {
  const a = sleeper(t)
  const given = PidFd.open(a.pid)
  const set = new PidSet([given])
  const pending = set.waitAny()
  given.close()
  t.false(set.has(a.pid))
  await t.throwsAsync(pending, { code: 'ERR_PIDSET_EMPTY' })
  set.close()
})

test('closing a member PidFd takes it out of the set, also once the set has seen it exit', async (t) => {
  // Found by the model-based fuzzer (model.spec.ts): the set kept, and
  // later reported, a closed member whose exit it had already queued, so
  // whether close() removed it depended on event-loop timing. Now it always
  // does, as delete() does.
  const dying = sleeper(t)
  const given = PidFd.open(dying.pid)
  const other = sleeper(t)
  const set = new PidSet([given, other.pid])
  dying.proc.kill('SIGKILL')
  // By the time child_process reports the exit, the set has queued it too.
  await dying.exited
  given.close()
  t.false(set.has(dying.pid))
  t.is(set.size, 1)
  t.deepEqual([...set.values()].map((m) => m.closed), [false])
  other.proc.kill('SIGKILL')
  t.is((await set.waitAny()).pid, other.pid)
  t.is(set.size, 0)
  set.close()
})

test('a PidFd that already exited is reported when added', async (t) => {
  const child = sh(t, 'exit 4')
  const pidfd = PidFd.open(child.pid)
  await pidfd.wait()
  const set = new PidSet([pidfd])
  assertChildStatus(t, (await set.waitAny()).exitCode, 4)
  set.close()
  pidfd.close()
})

test('a constructor that fails part-way leaves nothing open', (t) => {
  const a = sleeper(t)
  const b = sleeper(t)
  const before = openFds()
  const err = t.throws<PidsetSystemError>(() => new PidSet([a.pid, b.pid, NO_SUCH_PID]), { code: 'ESRCH' })
  t.regex(err?.message ?? '', new RegExp(`pid ${NO_SUCH_PID}`))
  t.is(openFds(), before)
})

test('bad members and options are refused with Node codes', async (t) => {
  t.throws(() => new PidSet(5 as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new PidSet(['1'] as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  const set = new PidSet()
  for (const bad of ['1', 1n, {}, null]) {
    t.throws(() => set.add(bad as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    t.throws(() => set.has(bad as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  }
  for (const bad of [0, -5, 1.5, NaN]) t.throws(() => set.add(bad), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(set.waitAll({ timeout: -1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(set.waitAny({ signal: 'x' } as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.is(set.size, 0)
  set.close()
})

test('a closed PidFd cannot be added', (t) => {
  const a = sleeper(t)
  const pidfd = PidFd.open(a.pid)
  pidfd.close()
  const set = new PidSet()
  t.throws(() => set.add(pidfd), { code: 'EBADF' })
  set.close()
})

test('300 members all reported by waitAll()', async (t) => {
  const children = Array.from({ length: 300 }, (_, i) => sh(t, `exit ${i % 256}`))
  const set = new PidSet(children.map((c) => c.pid))
  const infos = await set.waitAll()
  t.is(infos.length, 300)
  t.deepEqual(new Set(infos.map((i) => i.pid)), new Set(children.map((c) => c.pid)))
  const byPid = new Map(infos.map((i) => [i.pid, i.exitCode]))
  children.forEach((c, i) => assertChildStatus(t, byPid.get(c.pid), i % 256, `exit code of ${c.pid}`))
  set.close()
})

test('Symbol.dispose closes the set', (t) => {
  const a = sleeper(t)
  const set = new PidSet([a.pid])
  const member = [...set.values()][0]
  set[Symbol.dispose]()
  t.true(member.closed)
})

test('waitAnyMember() leads each exit back to the handle and the data added with it', async (t) => {
  const set = new PidSet<{ name: string; code: number }>()
  const jobs = [
    { name: 'first', code: 3 },
    { name: 'second', code: 5 },
    { name: 'third', code: 7 },
  ]
  const children = jobs.map((job) => spawn('sh', ['-c', `read _; exit ${job.code}`], { stdio: ['pipe', 'ignore', 'ignore'] }))
  children.forEach((child, i) => set.add(child.pidfd as PidFd, jobs[i]))
  // A member added by PID carries its data too; one added with none has undefined.
  const plain = spawn('sh', ['-c', 'read _; exit 9'], { stdio: ['pipe', 'ignore', 'ignore'] })
  set.add(plain.pid as number)
  // Pending waits of both kinds are served in the order they were made.
  const any = set.waitAny()
  const member = set.waitAnyMember()
  children[1].stdin.end('go\n')
  children[2].stdin.end('go\n')
  const one = await any
  const second = await member
  t.deepEqual([one.exitCode, second.exit.exitCode].sort(), [5, 7])
  t.is(second.exit.exitCode, second.data?.code ?? -1)
  t.is(second.pidfd.pid, second.exit.pid)
  children[0].stdin.end('go\n')
  const first = await set.waitAnyMember()
  t.deepEqual([first.data?.name, first.exit.exitCode, first.pidfd], ['first', 3, children[0].pidfd])
  plain.stdin.end('go\n')
  const last = await set.waitAnyMember()
  t.deepEqual([last.data, last.exit.exitCode, last.exit.pid], [undefined, 9, plain.pid])
  await t.throwsAsync(set.waitAnyMember(), { code: 'ERR_PIDSET_EMPTY' })
  set.close()
})

test('seeing exits with tryWait() then leaving a set loses no pending wait', async (t) => {
  const children = Array.from({ length: 40 }, () => sleeper(t))
  const set = new PidSet()
  const waits = children.map((c) => set.add(PidFd.open(c.pid)).wait())
  // Each exit is seen before the event loop can report it, then the member
  // leaves the set (a re-sync of its watch): this once stranded its wait.
  for (const pidfd of [...set.values()]) {
    pidfd.kill('SIGKILL')
    while (!pidfd.tryWait()) {
      // SIGKILL takes effect within microseconds.
    }
    set.delete(pidfd)
  }
  const infos = await Promise.all(waits)
  t.deepEqual(infos.map((i) => i.signal), children.map(() => 'SIGKILL'))
  set.close()
})

test("a set's waitAny() reports a member whose exit tryWait() saw first", async (t) => {
  const child = sh(t, 'exit 6')
  const pidfd = PidFd.open(child.pid)
  while (!pidfd.tryWait()) {
    // Wait for the exit without the event loop.
  }
  const set = new PidSet([pidfd])
  t.is((await set.waitAny()).exitCode, 6)
  const other = sh(t, 'exit 7')
  const second = PidFd.open(other.pid)
  const set2 = new PidSet([second])
  const pending = set2.waitAny()
  // A wait on the handle that settles (times out) after tryWait() saw the
  // exit, but before the event loop reported it, re-syncs the watch.
  second.wait({ timeout: 1 }).catch(() => {})
  while (!second.tryWait()) {
    // As above, but with the set already waiting.
  }
  t.is((await pending).exitCode, 7)
  set.close()
  set2.close()
  pidfd.close()
  second.close()
})

test('a PidFd in two sets is reported by both', async (t) => {
  const child = sleeper(t)
  const a = new PidSet()
  const b = new PidSet()
  b.add(a.add(child.pid))
  const [fromB, fromA] = [b.waitAny(), a.waitAny()]
  child.proc.kill('SIGKILL')
  const [infoA, infoB] = await Promise.all([fromA, fromB])
  assertChildStatus(t, infoA.signal, 'SIGKILL')
  t.is(infoB, infoA, 'the same frozen ExitInfo')
  t.is(a.size + b.size, 0)
  a.close()
  b.close()
})

test('iteration ends, without throwing, when its last member is deleted', async (t) => {
  const child = sleeper(t)
  const set = new PidSet([child.pid])
  const seen: ExitInfo[] = []
  const loop = (async () => {
    for await (const info of set as AsyncIterable<ExitInfo>) seen.push(info)
  })()
  setImmediate(() => set.delete(child.pid))
  await t.notThrowsAsync(loop)
  t.deepEqual(seen, [])
  set.close()
})

test('a wait made while another is settling (by its signal’s removeEventListener) gets the next exit, which is not lost', async (t) => {
  const a = sh(t, 'exit 3')
  const b = sh(t, 'exit 4')
  const pidfds = [PidFd.open(a.pid), PidFd.open(b.pid)]
  const set = new PidSet(pidfds)
  // Both exits queued in the set, and no wait on it yet.
  await Promise.all(pidfds.map((p) => p.wait()))
  const signal = new AbortController().signal
  let inner: Promise<ExitInfo> | undefined
  // Runs while the first wait settles: the set must not serve it twice.
  signal.removeEventListener = function (...args: Parameters<AbortSignal['removeEventListener']>) {
    inner ??= set.waitAny({ timeout: 10_000 })
    return AbortSignal.prototype.removeEventListener.apply(this, args)
  }
  const first = await set.waitAny({ signal })
  t.truthy(inner, 'the signal was let go of as the wait settled')
  const second = await inner
  t.deepEqual([first.pid, second?.pid].sort(), [a.pid, b.pid].sort())
  t.is(set.size, 0)
  for (const p of pidfds) p.close()
})
