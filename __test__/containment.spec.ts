// Containment: spawn(..., { cgroup }) puts the child in a cgroup of its
// own, and killTree() of it leaves nothing, setsid'd and double-forked
// processes included (the core's side: crates/pidset/tests/cgroup.rs).
import test from 'ava'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PidFd, spawn, type Subprocess } from '../index'
import { lines, nextLine, setprivBlocker, ROOT, runCommand, start, survivors, testUnless } from './helpers'

/** Why no cgroup of a child's own can be made here, or null. */
function cgroupBlocker(): string | null {
  // The cgroup is made synchronously, before the child starts; the probe's
  // is removed as it exits.
  const probe = spawn('true', [], { cgroup: true })
  probe.exited.catch(() => undefined)
  return probe.cgroup === null ? 'no cgroup v2 of our own can be made here (needs root or a delegated cgroup)' : null
}

/** A tree that tries every way out: a setsid'd pair and a double-forked orphan, each printing its PID. */
const ESCAPERS = `
  setsid sh -c 'sleep 100 & echo $!; exec sleep 100' &
  sh -c 'sh -c "echo \\$\\$; exec sleep 100" &'
  echo ready
  exec sleep 100
`

/** Starts `script` contained, and resolves once it printed `ready` and `pids` PIDs. */
async function contained(script: string, marker: string, pids: number): Promise<{ child: Subprocess; printed: number[] }> {
  const child = spawn('sh', ['-c', script], { cgroup: true, env: { ...process.env, PIDSET_TREE_TEST: marker }, stdio: ['ignore', 'pipe', 'inherit'] })
  let text = ''
  for await (const chunk of child.stdout!) {
    text += String(chunk)
    const lines = text.split('\n').filter(Boolean)
    if (lines.includes('ready') && lines.length > pids) break
  }
  return { child, printed: text.split('\n').filter((l) => /^\d+$/.test(l)).map(Number) }
}

const blocker = cgroupBlocker()

testUnless(blocker)('killTree() of a contained child leaves nothing: setsid and double forks included; the cgroup is removed', async (t) => {
  const marker = `contained-kill-${process.pid}`
  const { child, printed } = await contained(ESCAPERS, marker, 2)
  t.true(child.cgroup !== null && existsSync(child.cgroup))
  t.is(survivors(marker).length, 4)
  const exits = await child.killTree('SIGKILL', { wait: true })
  t.is(exits.length, 4)
  t.true([child.pid!, ...printed].every((pid) => exits.some((e) => e.pid === pid)), 'the escapers were killed and awaited')
  t.deepEqual(survivors(marker), [])
  t.false(existsSync(child.cgroup!), 'the empty cgroup was removed')
  t.is((await child.exited).signal, 'SIGKILL')
})

testUnless(blocker)('killTree(SIGTERM) of a contained child freezes, signals and thaws: every member acts on it', async (t) => {
  const marker = `contained-term-${process.pid}`
  const { child } = await contained(ESCAPERS, marker, 2)
  const exits = await child.killTree('SIGTERM', { wait: true })
  t.is(exits.length, 4)
  // A grandchild's status is known only if it is read before init reaps it.
  t.true(exits.every((e) => e.signal === 'SIGTERM' || (e.pid !== child.pid && e.signal === null)), JSON.stringify(exits))
  t.is((await child.exited).signal, 'SIGTERM')
  t.deepEqual(survivors(marker), [])
  t.false(existsSync(child.cgroup!))
})

testUnless(blocker)("a contained child's cgroup outlives it while its tree runs, and killTree() still reaches the tree", async (t) => {
  const marker = `contained-outlived-${process.pid}`
  const { child, printed } = await contained(`sh -c 'echo $$; exec sleep 100' & echo ready`, marker, 1)
  await child.exited
  t.true(existsSync(child.cgroup!), 'still in use by the orphan')
  t.deepEqual(survivors(marker), printed)
  const exits = await child.killTree('SIGKILL', { wait: true })
  t.deepEqual(exits.map((e) => e.pid), printed)
  t.false(existsSync(child.cgroup!))
})

test('a directory that is not a cgroup: exited rejects saying why and what to do, and nothing starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-not-a-cgroup-'))
  const marker = join(dir, 'ran')
  const child = spawn('sh', ['-c', `touch ${marker}`], { cgroup: dir })
  t.is(child.pid, undefined)
  const err = await t.throwsAsync(child.exited, { code: 'ENOENT' })
  t.regex(err?.message ?? '', /cgroup.*Delegate=yes/)
  t.false(existsSync(marker))
  t.deepEqual(readdirSync(dir), [])
  rmSync(dir, { recursive: true })
})

testUnless(blocker ?? setprivBlocker())('as a user who may not write the cgroup, exited rejects with EACCES or EPERM and nothing starts', async (t) => {
  const script = `const c = require(${JSON.stringify(ROOT)}).spawn('sh', ['-c', 'echo started'], { cgroup: true, stdio: 'inherit' }); c.exited.then(() => console.log('resolved'), (e) => console.log(e.code, e.syscall, c.pid))`
  const ran = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script])
  t.regex(ran.stdout, /^(EACCES|EPERM) cgroup undefined$/m, ran.stdout + ran.stderr)
  t.notRegex(ran.stdout, /started/)
})

test('the cgroup option is checked', (t) => {
  t.throws(() => spawn('true', [], { cgroup: 1 as never }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => spawn('true', [], { cgroup: 'relative/path' }), { code: 'ERR_INVALID_ARG_VALUE' })
})

testUnless(blocker)('killOnParentExit with cgroup: the whole contained tree dies with its SIGKILLed parent, escapers included', async (t) => {
  const marker = `contained-parent-${process.pid}`
  const script = `
    const { spawn } = require(${JSON.stringify(ROOT)})
    const child = spawn('sh', ['-c', ${JSON.stringify(ESCAPERS)}], { cgroup: true, killOnParentExit: true, env: { ...process.env, PIDSET_TREE_TEST: ${JSON.stringify(marker)} }, stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (d) => { text += d; if (text.includes('ready') && text.trim().split('\\n').length >= 3) console.log(child.cgroup) })
  `
  const parent = start(t, process.execPath, '-e', script)
  const cgroup = await nextLine(lines(parent))
  const tree = survivors(marker)
  t.is(tree.length, 4)
  const handles = tree.map((pid) => PidFd.open(pid))
  parent.proc.kill('SIGKILL')
  await parent.exited
  for (const handle of handles) {
    await handle.wait({ timeout: 10_000 })
    handle.close()
  }
  t.deepEqual(survivors(marker), [])
  t.true(cgroup.includes('/pidset-'), cgroup)
})
