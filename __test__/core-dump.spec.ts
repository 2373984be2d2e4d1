// ExitInfo.coreDumped: whether the signal that ended a process made the
// kernel write a core dump, from the status word the kernel reports (the
// core bit of PIDFD_GET_INFO's exit code, CLD_DUMPED from waitid).
import { execFile, spawn as cpSpawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { kernelSupport, PidFd, PidSet, spawn, type ExitInfo } from '../index'
import { assertChildStatus, testUnless } from './helpers'

/**
 * Why a crash here would not leave a core file in its working directory,
 * or null: the tests below check the dump they expect by that file.
 */
function coreFileBlocker(): string | null {
  let pattern: string
  try {
    pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim()
  } catch {
    return 'coreDumped: /proc/sys/kernel/core_pattern cannot be read'
  }
  if (pattern === '' || pattern.startsWith('|') || pattern.includes('/')) {
    return `coreDumped: core_pattern is ${JSON.stringify(pattern)}, not a file in the working directory`
  }
  // The shells below raise their soft core limit to unlimited: the hard one must allow it.
  const hard = /^Max core file size\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]
  if (hard !== 'unlimited') return `coreDumped: the hard core file size limit is ${hard ?? 'not known'}, not unlimited`
  return null
}

/** A fresh directory for a crash to dump into; its core files, listed after. */
function dumpDirectory(t: { teardown: (fn: () => void) => void }): { dir: string; cores: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-core-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return { dir, cores: () => readdirSync(dir).filter((name) => name.startsWith('core')) }
}

// The shell raises its own core limit (this test process's soft limit is
// often 0) and sends itself SIGSEGV, whose default action dumps core.
const CRASH = 'ulimit -c unlimited && kill -SEGV $$'

testUnless(coreFileBlocker())('a crash that wrote a core file is coreDumped, through spawn(), wait() and a set', async (t) => {
  const { dir, cores } = dumpDirectory(t)
  const exit = await spawn('sh', ['-c', CRASH], { cwd: dir }).exited
  t.is(exit.signal, 'SIGSEGV')
  t.is(exit.exitCode, null)
  t.true(exit.coreDumped)
  t.is(cores().length, 1, 'the kernel wrote one core file')

  // A child_process child, through PidFd.wait() and a PidSet at once.
  const again = dumpDirectory(t)
  const child = cpSpawn('sh', ['-c', `read _; ${CRASH}`], { cwd: again.dir, stdio: ['pipe', 'ignore', 'ignore'] })
  await once(child, 'spawn')
  const pidfd = PidFd.open(child.pid as number)
  const set = new PidSet([pidfd])
  const waits = [pidfd.wait(), set.waitAny()]
  child.stdin?.end('go\n')
  for (const info of await Promise.all(waits)) {
    // Before Linux 6.15, libuv may reap it first (the dump takes a while):
    // the status is then unknown, the core bit with it.
    assertChildStatus(t, info.signal, 'SIGSEGV', 'signal')
    t.is(info.coreDumped, info.signal === null ? null : true)
  }
  t.is(again.cores().length, 1)
  set.close()
  pidfd.close()
})

testUnless(coreFileBlocker())("a process that is not ours: its parent reaps it, and the core bit comes with the status (Linux 6.15+)", async (t) => {
  const { dir, cores } = dumpDirectory(t)
  // The crash is a grandchild: its own parent, blocked in wait, reaps it.
  // (A background command's stdin is /dev/null unless redirected.)
  const parent = cpSpawn('sh', ['-c', `exec 3<&0; sh -c 'read _; ${CRASH}' <&3 & echo $!; wait`], { cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] })
  const parentExited = once(parent, 'exit')
  const [line] = (await once(parent.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
  const pidfd = PidFd.open(Number(line.toString().trim()))
  const wait = pidfd.wait()
  parent.stdin?.end('go\n')
  const info: ExitInfo = await wait
  await parentExited
  t.is(cores().length, 1)
  if (kernelSupport().exitInfo) {
    t.is(info.signal, 'SIGSEGV')
    t.true(info.coreDumped)
  } else {
    // Before PIDFD_INFO_EXIT nothing of a stranger's status is known.
    t.deepEqual([info.exitCode, info.signal, info.coreDumped], [null, null, null])
  }
  pidfd.close()
})

testUnless(coreFileBlocker())('no dump is false: an exit code, SIGKILL, and a crash under a core limit of 0', async (t) => {
  const { dir, cores } = dumpDirectory(t)
  const cases = [
    ['exit 3', { exitCode: 3, signal: null }],
    ['kill -KILL $$', { exitCode: null, signal: 'SIGKILL' }],
    ['ulimit -c 0 && kill -SEGV $$', { exitCode: null, signal: 'SIGSEGV' }],
  ] as const
  for (const [script, expected] of cases) {
    const exit = await spawn('sh', ['-c', script], { cwd: dir }).exited
    t.deepEqual({ exitCode: exit.exitCode, signal: exit.signal, coreDumped: exit.coreDumped }, { ...expected, coreDumped: false }, script)
  }
  t.deepEqual(cores(), [], 'no core file was written')
})

test("fromChild(): a status that only child_process knows says nothing of a dump", async (t) => {
  // A child child_process reaps before pidset reads it: on kernels with
  // PIDFD_INFO_EXIT the kernel still knows (and says whether it dumped);
  // before them the status is child_process's, which does not say.
  const child = cpSpawn('sh', ['-c', 'kill -TERM $$'], { stdio: 'ignore' })
  await once(child, 'spawn')
  const pidfd = PidFd.fromChild(child)
  await once(child, 'exit')
  const info = await pidfd.wait()
  t.is(info.signal, 'SIGTERM')
  t.is(info.coreDumped, kernelSupport().exitInfo ? false : null)
  pidfd.close()
})

testUnless(coreFileBlocker())('pidset run says "(core dumped)" as a shell does, and its status is 128 + 11', async (t) => {
  const { dir, cores } = dumpDirectory(t)
  const cli = join(__dirname, '..', 'lib', 'cli.js')
  const ran = await promisify(execFile)(process.execPath, [cli, 'run', '--', 'sh', '-c', CRASH], { cwd: dir }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  )
  t.is(ran.code, 128 + 11)
  t.regex(ran.stderr, /^pidset run: sh killed by SIGSEGV \(core dumped\) in /)
  t.is(cores().length, 1)
})
