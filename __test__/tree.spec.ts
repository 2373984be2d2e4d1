// Process trees from JavaScript: descendants(), killTree() and
// subprocess.killTree() on real trees (the walk itself is tested in the
// core: crates/pidset/tests/tree.rs).
import { join } from 'node:path'
import test from 'ava'
import { descendants, killTree, PidFd, spawn } from '../index'
import { lines, namespaceBlocker, nextLine, ROOT, runCommand, setprivBlocker, sh, survivors, testUnless, TIME_SCALE, UNSHARE } from './helpers'

/** Two levels below the root; each process prints its PID once started. */
const THREE_LEVELS = `
  sh -c 'echo $$; sh -c "echo \\$\\$; exec sleep 100" & sh -c "echo \\$\\$; exec sleep 100" & wait' &
  sh -c 'echo $$; exec sleep 100' &
  wait
`

/** The next `n` lines of `reader`, as PIDs. */
async function pids(reader: AsyncIterator<string>, n: number): Promise<number[]> {
  const found: number[] = []
  for (let i = 0; i < n; i++) found.push(Number(await nextLine(reader)))
  return found
}

test('descendants() gives a verified handle for every process below the target, by PID or PidFd', async (t) => {
  const root = sh(t, THREE_LEVELS)
  const expected = (await pids(lines(root), 4)).sort()
  const byPid = descendants(root.pid)
  t.deepEqual(byPid.map((p) => p.pid).sort(), expected)
  const handle = PidFd.open(root.pid)
  const byHandle = descendants(handle)
  t.deepEqual(byHandle.map((p) => p.pid).sort(), expected)
  t.false(handle.closed, 'a PidFd target stays open')
  for (const p of [...byPid, ...byHandle]) {
    t.true(p.isRunning())
    p.close()
  }
  // The tree goes, so that nothing holds the test's pipe open.
  t.is((await killTree(handle, 'SIGKILL', { wait: true })).length, 5)
  handle.close()
})

test('killTree() signals the target and every descendant, and with wait resolves with their exits', async (t) => {
  const root = sh(t, THREE_LEVELS)
  const expected = [root.pid, ...(await pids(lines(root), 4))].sort()
  const exits = await killTree(root.pid, 'SIGKILL', { wait: true })
  t.deepEqual(exits.map((e) => e.pid).sort(), expected)
  t.true(exits.every((e) => e.signal === 'SIGKILL' || e.signal === null))
  t.deepEqual(await root.exited, [null, 'SIGKILL'])
})

test('killTree() resolves with how many it signalled; includeRoot: false leaves the target running', async (t) => {
  const root = sh(t, THREE_LEVELS)
  await pids(lines(root), 4)
  const handle = PidFd.open(root.pid)
  t.is(await killTree(handle, 'SIGTERM', { includeRoot: false }), 4)
  // The root's `wait` returns once its children are gone: it was
  // continued after the walk stopped it, and was not signalled.
  t.deepEqual(await root.exited, [0, null])
  handle.close()
})

test('forceKillAfterDelay: a tree that ignores SIGTERM is SIGKILLed, forks made since included', async (t) => {
  const marker = `force-${process.pid}`
  const script = `trap '' TERM; sh -c "trap '' TERM; echo \\$\\$; exec sleep 100" & echo $$; wait`
  const child = spawn('sh', ['-c', script], { env: { ...process.env, PIDSET_TREE_TEST: marker }, stdio: ['ignore', 'pipe', 'inherit'] })
  const reader = (child.stdout as NodeJS.ReadableStream & AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  let text = ''
  while (text.split('\n').length < 3) text += String((await reader.next()).value)
  const exits = await child.killTree('SIGTERM', { forceKillAfterDelay: 200 })
  t.is(exits.length, 2)
  // A grandchild's status is known only if it is read before init reaps it.
  t.true(exits.every((e) => e.signal === 'SIGKILL' || (e.pid !== child.pid && e.signal === null)), JSON.stringify(exits))
  t.is((await child.exited).signal, 'SIGKILL')
  t.deepEqual(survivors(marker), [])
})

test('subprocess.killTree() takes a detached child whose middle process exited first', async (t) => {
  const marker = `detached-${process.pid}`
  // The middle starts a sleep and exits: the sleep is an orphan, no longer
  // below the child, but still in the session the child leads.
  const child = spawn('sh', ['-c', `sh -c 'sleep 100 & echo $!'; echo ready; exec sleep 100`], {
    detached: true,
    env: { ...process.env, PIDSET_TREE_TEST: marker },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const out = (child.stdout as NodeJS.ReadableStream & AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  let text = ''
  while (!text.includes('ready')) text += String((await out.next()).value)
  const orphan = Number(text.split('\n')[0])
  t.deepEqual(descendants(child.pidfd!).map((p) => p.pid), [], 'the orphan is not below the child')
  const exits = await child.killTree('SIGKILL', { wait: true })
  t.true(exits.some((e) => e.pid === orphan), 'the orphan was found through the session')
  t.deepEqual(survivors(marker), [])
})

test('subprocess.killTree() once the child has exited signals nothing', async (t) => {
  const child = spawn('true')
  await child.exited
  t.is(await child.killTree(), 0)
  t.deepEqual(await child.killTree('SIGKILL', { wait: true }), [])
})

test('bad arguments are refused with Node-style codes', async (t) => {
  t.throws(() => descendants('1' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => descendants(0), { code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(killTree(1, 'SIGNOPE' as never), { code: 'ERR_UNKNOWN_SIGNAL' })
  await t.throwsAsync(killTree(1, 'SIGTERM', { wait: 'yes' } as never), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(killTree(1, 'SIGTERM', { forceKillAfterDelay: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(killTree(2 ** 30), { code: 'ESRCH' })
  const closed = PidFd.open(process.pid)
  closed.close()
  t.throws(() => descendants(closed), { code: 'EBADF' })
  await t.throwsAsync(killTree(closed), { code: 'EBADF' })
})

testUnless(setprivBlocker())('a process that may not be signalled rejects with EPERM naming it, after the rest were signalled', async (t) => {
  // A tree of root's, killed by a Node running as nobody: the root may not
  // be signalled (nor stopped), nor may its child.
  const root = sh(t, THREE_LEVELS)
  await pids(lines(root), 4)
  const script = `require(${JSON.stringify(ROOT)}).killTree(${root.pid}, 'SIGKILL').then(() => console.log('resolved'), (e) => console.log(e.code, e.pid, e.message))`
  const ran = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script])
  t.regex(ran.stdout, new RegExp(`^EPERM ${root.pid} .*${root.pid}`), ran.stdout + ran.stderr)
  const handle = PidFd.open(root.pid)
  t.true(handle.isRunning())
  // Root may: the tree goes, so nothing holds the test's pipe open.
  t.is((await killTree(handle, 'SIGKILL', { wait: true })).length, 5)
  handle.close()
})

testUnless(namespaceBlocker())("no stranger is ever taken for a descendant: a dead root's PID reused by a newcomer with a child", async (t) => {
  // In a PID namespace the fixture gives a dead root's PID to a newcomer
  // with a child, so /proc lists that child under the root's PID.
  const trials = TIME_SCALE > 1 ? 5 : 20
  const run = async (mode?: 'naive'): Promise<Record<string, number>> => {
    const args = [...UNSHARE, process.execPath, join(__dirname, 'fixtures', 'tree-reuse.cjs'), String(mode ? 5 : trials), ...(mode ? [mode] : [])]
    const ran = await runCommand('unshare', args, { timeoutMs: 120_000 })
    if (ran.code !== 0) throw new Error(`the fixture failed (${ran.code ?? ran.signal}): ${ran.stderr}`)
    return JSON.parse(ran.stdout) as Record<string, number>
  }
  const counts = await run()
  t.log(JSON.stringify(counts))
  t.true(counts.reused >= trials / 2)
  t.is(counts.listedStranger, counts.reused, "/proc listed the stranger under the dead root's PID every time")
  t.is(counts.foundNone, counts.reused, 'descendants() found nothing')
  t.is(counts.signalledNone, counts.reused, 'killTree() signalled nothing')
  t.is(counts.strangerKilled, 0)
  // The control: killing what /proc lists, as PID-based tree killers do,
  // kills the stranger every time.
  const naive = await run('naive')
  t.is(naive.strangerKilled, naive.reused)
})
