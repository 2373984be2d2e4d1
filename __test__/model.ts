// A model-based fuzzer for PidFd and PidSet: random sequences of operations
// on real processes, each result checked against a model of what must be
// pending, settled or reported. Used by model.spec.ts.
//
// What it must catch by itself: a wait that never settles (the run ends by
// killing everything and requiring every pending promise to settle), an
// exit reported twice or to a set it had left, a wrong pid or signal, a
// rejection with a code the operations done cannot explain.
import { spawn as cpSpawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { PidFd, PidSet, kernelSupport, spawn, type ExitInfo, type Subprocess } from '../index'

/** One step of a run, chosen by the generator; indices pick among what exists then. */
export type Op =
  | { kind: 'start'; how: 'child_process' | 'pidset' }
  | { kind: 'killOutside' | 'killHandle'; target: number; signal: 'SIGTERM' | 'SIGKILL' }
  | { kind: 'open' | 'tryWait' | 'spinTryWait' | 'isRunning' | 'close' | 'ref' | 'unref'; target: number }
  | { kind: 'wait'; target: number; timeout: number; abortable: boolean }
  | { kind: 'abort'; target: number }
  | { kind: 'newSet' | 'closeSet' | 'iterate'; target: number }
  | { kind: 'addPid' | 'addHandle' | 'deletePid' | 'has'; target: number; member: number }
  | { kind: 'waitAny' | 'waitAll'; target: number; timeout: number }
  | { kind: 'tick'; turns: number }

/** Small, fast, seedable PRNG (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` operations from `seed`, weighted toward what exercises exits. */
export function generate(seed: number, count: number): Op[] {
  const r = random(seed)
  const pick = <T>(items: T[]): T => items[Math.floor(r() * items.length)]
  const n = () => Math.floor(r() * 1000)
  const timeout = () => (r() < 0.15 ? 1 + Math.floor(r() * 20) : 0)
  const signal = () => pick(['SIGTERM', 'SIGKILL'] as const)
  const ops: Op[] = [{ kind: 'start', how: 'child_process' }, { kind: 'start', how: 'pidset' }, { kind: 'newSet', target: 0 }]
  const makers: Array<[number, () => Op]> = [
    [6, () => ({ kind: 'start', how: pick(['child_process', 'pidset'] as const) })],
    [4, () => ({ kind: 'killOutside', target: n(), signal: signal() })],
    [3, () => ({ kind: 'killHandle', target: n(), signal: signal() })],
    [8, () => ({ kind: 'open', target: n() })],
    [6, () => ({ kind: 'tryWait', target: n() })],
    [2, () => ({ kind: 'spinTryWait', target: n() })],
    [2, () => ({ kind: 'isRunning', target: n() })],
    [3, () => ({ kind: 'close', target: n() })],
    [1, () => ({ kind: 'ref', target: n() })],
    [1, () => ({ kind: 'unref', target: n() })],
    [8, () => ({ kind: 'wait', target: n(), timeout: timeout(), abortable: r() < 0.2 })],
    [2, () => ({ kind: 'abort', target: n() })],
    [2, () => ({ kind: 'newSet', target: n() })],
    [1, () => ({ kind: 'closeSet', target: n() })],
    [2, () => ({ kind: 'iterate', target: n() })],
    [6, () => ({ kind: 'addPid', target: n(), member: n() })],
    [6, () => ({ kind: 'addHandle', target: n(), member: n() })],
    [3, () => ({ kind: 'deletePid', target: n(), member: n() })],
    [2, () => ({ kind: 'has', target: n(), member: n() })],
    [5, () => ({ kind: 'waitAny', target: n(), timeout: timeout() })],
    [2, () => ({ kind: 'waitAll', target: n(), timeout: timeout() })],
    [14, () => ({ kind: 'tick', turns: 1 + Math.floor(r() * 3) })],
  ]
  const total = makers.reduce((sum, [weight]) => sum + weight, 0)
  while (ops.length < count) {
    let x = r() * total
    for (const [weight, make] of makers) {
      if ((x -= weight) < 0) {
        ops.push(make())
        break
      }
    }
  }
  return ops
}

interface Proc {
  pid: number
  /** The first fatal signal sent: what the exit must report. */
  killedWith: 'SIGTERM' | 'SIGKILL' | null
  child?: ChildProcess
  subprocess?: Subprocess
}

interface Handle {
  h: PidFd
  proc: Proc
  closed: boolean
  aborts: AbortController[]
}

interface SetModel {
  s: PidSet
  closed: boolean
  /** pid -> the user's handle it was added as, or null if the set opened it. */
  members: Map<number, Handle | null>
  /** Every pid any of its operations reported, to catch a second report. */
  reported: Set<number>
}

/** A check that failed: what, at which step. */
export class ModelViolation extends Error {}

const EXIT_INFO = kernelSupport().exitInfo

/** What a run did, to show that it did something. */
export interface RunStats {
  processes: number
  /** Exits checked: reported by a wait, a set or tryWait(). */
  exits: number
  /** Promises (waits, set waits, iterations) checked when they settled. */
  promises: number
}

/** Runs `ops` on real processes; throws ModelViolation at the first disagreement. */
export async function run(ops: Op[], settleMs: number): Promise<RunStats> {
  const stats: RunStats = { processes: 0, exits: 0, promises: 0 }
  const procs: Proc[] = []
  const handles: Handle[] = []
  const sets: SetModel[] = []
  const pending = new Set<Promise<unknown>>()
  let violation: ModelViolation | null = null
  let step = 0
  const fail = (message: string): void => {
    violation ??= new ModelViolation(`step ${step} (${JSON.stringify(ops[step] ?? 'end')}): ${message}`)
  }
  const at = <T>(items: T[], i: number): T | undefined => (items.length === 0 ? undefined : items[i % items.length])

  /** Checks an exit against the model: right pid, a process killed, the signal it was killed with. */
  const checkExit = (info: ExitInfo, proc: Proc, what: string): void => {
    stats.exits++
    if (info.pid !== proc.pid) fail(`${what}: pid ${info.pid}, expected ${proc.pid}`)
    if (proc.killedWith === null) fail(`${what}: reported exit of ${proc.pid}, which was never killed`)
    const known = info.exitCode !== null || info.signal !== null
    if (!known && EXIT_INFO) fail(`${what}: no status for ${proc.pid} on a kernel with PIDFD_INFO_EXIT`)
    if (known && (info.signal !== proc.killedWith || info.exitCode !== null)) {
      fail(`${what}: ${proc.pid} reported ${info.exitCode}/${info.signal}, killed with ${proc.killedWith}`)
    }
  }
  const track = <T>(promise: Promise<T>, onValue: (v: T) => void, allowed: (code: string) => boolean, what: string): void => {
    stats.promises++
    const settled = promise.then(onValue, (err: { code?: string }) => {
      if (!allowed(String(err?.code))) fail(`${what} rejected with ${err?.code}: ${String(err)}`)
    })
    pending.add(settled)
    void settled.finally(() => pending.delete(settled))
  }
  /** A set reported `info`: it must be a member, reported for the first time. */
  const reportedBy = (set: SetModel, info: ExitInfo, what: string): void => {
    if (set.reported.has(info.pid)) fail(`${what}: ${info.pid} reported a second time`)
    set.reported.add(info.pid)
    if (!set.members.has(info.pid)) fail(`${what}: ${info.pid} reported but not a member`)
    set.members.delete(info.pid)
    const proc = procs.find((p) => p.pid === info.pid)
    if (proc) checkExit(info, proc, what)
  }
  const alive = () => procs.filter((p) => p.killedWith === null)
  const openHandle = (i: number) => at(handles.filter((x) => !x.closed), i)
  const openSet = (i: number) => at(sets.filter((s) => !s.closed), i)
  const kill = (proc: Proc, signal: 'SIGTERM' | 'SIGKILL'): void => {
    proc.killedWith ??= signal
  }

  const apply = async (op: Op): Promise<void> => {
    switch (op.kind) {
      case 'start': {
        if (alive().length >= 8) return
        const proc: Proc = { pid: 0, killedWith: null }
        if (op.how === 'pidset') {
          proc.subprocess = spawn('sleep', ['1000'], { stdio: 'ignore' })
          proc.pid = proc.subprocess.pid as number
        } else {
          proc.child = cpSpawn('sleep', ['1000'], { stdio: 'ignore' })
          await once(proc.child, 'spawn')
          proc.pid = proc.child.pid as number
        }
        // The model names processes by PID, as sets do. A PID this run has
        // seen before (the kernel recycled it: other tests steer the host's
        // ns_last_pid) would make two processes one: that start is undone.
        if (procs.some((p) => p.pid === proc.pid)) {
          proc.child?.kill('SIGKILL')
          proc.subprocess?.kill('SIGKILL')
          await (proc.subprocess?.exited ?? once(proc.child as ChildProcess, 'exit'))
          return
        }
        procs.push(proc)
        return
      }
      case 'killOutside': {
        const proc = at(alive(), op.target)
        if (!proc) return
        kill(proc, op.signal)
        process.kill(proc.pid, op.signal)
        return
      }
      case 'killHandle': {
        const handle = openHandle(op.target)
        if (!handle) return
        const wasAlive = handle.proc.killedWith === null
        const sent = handle.h.kill(op.signal)
        if (wasAlive && !sent) fail(`kill() false for ${handle.proc.pid}, which was never killed`)
        if (sent) kill(handle.proc, op.signal)
        return
      }
      case 'open': {
        const proc = at(alive(), op.target)
        if (!proc) return
        handles.push({ h: PidFd.open(proc.pid), proc, closed: false, aborts: [] })
        return
      }
      case 'tryWait': {
        const handle = openHandle(op.target)
        if (!handle) return
        const info = handle.h.tryWait()
        if (info === null) return
        checkExit(info, handle.proc, 'tryWait()')
        return
      }
      case 'spinTryWait': {
        // tryWait() in a loop that never yields, on a process that was
        // killed: it sees the exit before the event loop can dispatch it,
        // as a program polling tryWait() does.
        const handle = at(handles.filter((x) => !x.closed && x.proc.killedWith !== null), op.target)
        if (!handle) return
        const ends = Date.now() + 200
        let info: ExitInfo | null = null
        while (info === null && Date.now() < ends) info = handle.h.tryWait()
        if (info) checkExit(info, handle.proc, 'tryWait() in a loop')
        return
      }
      case 'isRunning': {
        const handle = openHandle(op.target)
        if (handle && handle.proc.killedWith === null && !handle.h.isRunning()) fail(`isRunning() false for ${handle.proc.pid}`)
        return
      }
      case 'close': {
        const handle = openHandle(op.target)
        if (!handle) return
        handle.h.close()
        handle.closed = true
        // It leaves every set it is a member of.
        for (const set of sets) if (set.members.get(handle.proc.pid) === handle) set.members.delete(handle.proc.pid)
        return
      }
      case 'ref':
      case 'unref': {
        const handle = openHandle(op.target)
        if (handle) handle.h[op.kind]()
        return
      }
      case 'wait': {
        const handle = openHandle(op.target)
        if (!handle) return
        const abort = op.abortable ? new AbortController() : undefined
        if (abort) handle.aborts.push(abort)
        const what = `wait() on ${handle.proc.pid}`
        track(
          handle.h.wait({ timeout: op.timeout, signal: abort?.signal }),
          (info) => checkExit(info, handle.proc, what),
          (code) => (code === 'EBADF' && handle.closed) || (code === 'ETIMEDOUT' && op.timeout > 0) || (code === 'ABORT_ERR' && abort?.signal.aborted === true),
          what,
        )
        return
      }
      case 'abort': {
        const handle = at(handles.filter((x) => x.aborts.length > 0), op.target)
        handle?.aborts.shift()?.abort()
        return
      }
      case 'newSet': {
        if (sets.filter((s) => !s.closed).length < 3) sets.push({ s: new PidSet(), closed: false, members: new Map(), reported: new Set() })
        return
      }
      case 'closeSet': {
        const set = openSet(op.target)
        if (!set) return
        set.s.close()
        set.closed = true
        return
      }
      case 'addPid': {
        const set = openSet(op.target)
        const proc = at(alive(), op.member)
        if (!set || !proc) return
        set.s.add(proc.pid)
        if (!set.members.has(proc.pid)) set.members.set(proc.pid, null)
        set.reported.delete(proc.pid)
        return
      }
      case 'addHandle': {
        const set = openSet(op.target)
        const handle = at(handles.filter((x) => !x.closed && x.proc.killedWith === null), op.member)
        if (!set || !handle) return
        set.s.add(handle.h)
        if (!set.members.has(handle.proc.pid)) set.members.set(handle.proc.pid, handle)
        set.reported.delete(handle.proc.pid)
        return
      }
      case 'deletePid': {
        const set = openSet(op.target)
        const proc = at(procs, op.member)
        if (!set || !proc) return
        const was = set.s.delete(proc.pid)
        if (was !== set.members.has(proc.pid)) fail(`delete(${proc.pid}) gave ${was}, model says ${set.members.has(proc.pid)}`)
        set.members.delete(proc.pid)
        return
      }
      case 'has': {
        const set = openSet(op.target)
        const proc = at(procs, op.member)
        if (!set || !proc) return
        if (set.s.has(proc.pid) !== set.members.has(proc.pid)) fail(`has(${proc.pid}) gave ${set.s.has(proc.pid)}`)
        if (set.s.size !== set.members.size) fail(`size ${set.s.size}, model ${set.members.size} (${[...set.members.keys()]})`)
        return
      }
      case 'waitAny':
      case 'waitAll':
      case 'iterate': {
        const set = openSet(op.target)
        if (!set) return
        const timeout = 'timeout' in op ? op.timeout : 0
        // Empty in the model, or in the set itself while another consumer's
        // report of its last member is still on its way through promise
        // callbacks (an iterator's take longer). A member dropped without
        // a report is still caught: the model keeps it, and the end checks
        // the sizes and waits the model's members out.
        const emptyAllowed = () => set.members.size === 0 || set.s.size === 0
        const allowed = (code: string) =>
          (code === 'EBADF' && set.closed) || (code === 'ETIMEDOUT' && timeout > 0) || (code === 'ERR_PIDSET_EMPTY' && emptyAllowed())
        const what = `${op.kind} on set ${sets.indexOf(set)}`
        if (op.kind === 'waitAny') {
          track(set.s.waitAny({ timeout }), (info) => reportedBy(set, info, what), allowed, what)
        } else if (op.kind === 'waitAll') {
          track(set.s.waitAll({ timeout }), (infos) => infos.forEach((info) => reportedBy(set, info, what)), allowed, what)
        } else {
          const consume = async () => {
            for await (const info of set.s) reportedBy(set, info, what)
            // As for ERR_PIDSET_EMPTY above: ended when the set itself is empty.
            if (set.members.size !== 0 && set.s.size !== 0) fail(`${what} ended with members left: ${[...set.members.keys()]}`)
          }
          track(consume(), () => undefined, allowed, what)
        }
        return
      }
      case 'tick':
        for (let i = 0; i < op.turns; i++) await new Promise((resolve) => setImmediate(resolve))
        return
    }
  }

  try {
    for (step = 0; step < ops.length && !violation; step++) {
      // Only 'tick' (and starting a child_process child) lets the event
      // loop run: ops in between happen in one turn, before any exit is
      // dispatched, as synchronous user code does. Promise reactions do run
      // between ops (a chain of them ends an async iteration), so that the
      // model sees each settlement before the next op.
      await apply(ops[step])
      for (let hop = 0; hop < 20; hop++) await Promise.resolve()
    }
    // The end: every process dies, every open set is waited out; then every
    // pending promise must settle. One that does not is a lost wait.
    step = ops.length
    for (const proc of alive()) {
      kill(proc, 'SIGKILL')
      process.kill(proc.pid, 'SIGKILL')
    }
    for (const set of sets.filter((s) => !s.closed && s.members.size > 0)) {
      const what = `final waitAll on set ${sets.indexOf(set)}`
      track(set.s.waitAll(), (infos) => infos.forEach((info) => reportedBy(set, info, what)), (code) => code === 'ERR_PIDSET_EMPTY' && set.members.size === 0, what)
    }
    const deadline = new Promise<'late'>((resolve) => setTimeout(resolve, settleMs, 'late').unref())
    if ((await Promise.race([Promise.all([...pending]), deadline])) === 'late') {
      fail(`${pending.size} promise(s) never settled within ${settleMs} ms after every process was killed`)
    }
    for (const set of sets.filter((s) => !s.closed)) {
      if (set.s.size !== set.members.size) fail(`set ${sets.indexOf(set)}: size ${set.s.size} at the end, model ${set.members.size}`)
    }
  } catch (err) {
    if (!violation) fail(`threw ${(err as { code?: string }).code ?? ''} ${String(err)}`)
  } finally {
    // Through their handles, never by PID: a process that has exited and
    // been reaped has given its PID back, and another test's process (or an
    // ava worker) may have it by now.
    for (const proc of procs) {
      if (proc.child) proc.child.kill('SIGKILL')
      else proc.subprocess?.kill('SIGKILL')
    }
    for (const set of sets) set.s.close()
    for (const handle of handles) handle.h.close()
    await Promise.all(procs.map((p) => p.subprocess?.exited.catch(() => undefined) ?? (p.child && p.child.exitCode === null && p.child.signalCode === null ? once(p.child, 'exit') : undefined)))
  }
  if (violation) throw violation
  stats.processes = procs.length
  return stats
}

/**
 * Shrinks a failing `ops` by removing chunks while the run still fails,
 * within `budgetMs`. Real processes make runs not quite repeatable, so the
 * result is the shortest sequence seen failing, not a proven minimum.
 */
export async function shrink(ops: Op[], settleMs: number, budgetMs: number): Promise<{ ops: Op[]; error: ModelViolation }> {
  let best = ops
  let error = new ModelViolation('not reproduced')
  const ends = Date.now() + budgetMs
  for (let chunk = Math.ceil(best.length / 2); chunk >= 1 && Date.now() < ends; chunk = Math.floor(chunk / 2)) {
    for (let i = 0; i < best.length && Date.now() < ends; ) {
      const candidate = [...best.slice(0, i), ...best.slice(i + chunk)]
      const failed = await run(candidate, settleMs).then(
        () => null,
        (e: unknown) => (e instanceof ModelViolation ? e : null),
      )
      if (failed) {
        best = candidate
        error = failed
      } else {
        i += chunk
      }
    }
  }
  return { ops: best, error }
}
