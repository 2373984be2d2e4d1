// PID reuse forced in a fresh PID namespace: the old handle never reaches
// the process that got its PID, over 1,000 reuses (fixtures/pid-reuse.cjs),
// and a PidSet never takes the newcomer for the member that had its PID
// (fixtures/set-reuse.cjs).
import { join } from 'node:path'
import { assertChildStatus, namespaceBlocker, runCommand, testUnless, TIME_SCALE, UNSHARE } from './helpers'

const FIXTURE = join(__dirname, 'fixtures', 'pid-reuse.cjs')

interface Counts {
  trials: number
  reused: number
  refused: number
  reachedNewcomer: number
  waitsSettled: number
  wrongExit: number
}

async function reuse(trials: number, mode?: 'naive'): Promise<Counts> {
  const args = [...UNSHARE, process.execPath, FIXTURE, String(trials), ...(mode ? [mode] : [])]
  const ran = await runCommand('unshare', args, { timeoutMs: 120_000 })
  if (ran.code !== 0) throw new Error(`the fixture failed (${ran.code ?? ran.signal}): ${ran.stderr}`)
  return JSON.parse(ran.stdout) as Counts
}

// The kernel guests run it too, with fewer reuses (each costs a second
// there, not a millisecond); 1,000 on real hardware.
const REUSES = TIME_SCALE > 1 ? 100 : 1000

testUnless(namespaceBlocker())(`${REUSES} forced PID reuses: kill() on the old handle never reaches the newcomer, and wait() settles`, async (t) => {
  const counts = await reuse(REUSES)
  t.log(JSON.stringify(counts))
  t.is(counts.reused, REUSES)
  t.is(counts.refused, counts.reused, 'kill() through the old handle returned false every time')
  t.is(counts.reachedNewcomer, 0, 'no newcomer died of the old handle\'s SIGKILL')
  t.is(counts.waitsSettled, counts.reused)
  t.is(counts.wrongExit, 0)
  // The control: signalling the PID, as PID-based libraries do, kills the
  // newcomer every time, so the check above is one that can fail.
  const naive = await reuse(20, 'naive')
  t.is(naive.reused, 20)
  t.is(naive.reachedNewcomer, naive.reused)
})

testUnless(namespaceBlocker())('a PidSet tells apart two processes that had one PID: an unreported member and the newcomer', async (t) => {
  const args = [...UNSHARE, process.execPath, join(__dirname, 'fixtures', 'set-reuse.cjs')]
  const ran = await runCommand('unshare', args, { timeoutMs: 60_000 })
  t.is(ran.code, 0, ran.stderr)
  const report = JSON.parse(ran.stdout) as Record<string, unknown> & { pid: number }
  t.log(ran.stdout.trim())
  const pid = report.pid
  t.true(report.addReturnsTheNewcomer, 'add(newcomer handle) returns that handle, not the old member')
  t.true(report.hasNewcomer)
  t.is(report.sizeByHandle, 2)
  t.true(report.addByPidReturnsANewHandle, 'add(pid) opens the newcomer, not the old member')
  t.is(report.sizeByPid, 2)
  // The set that opened the PID itself reads the old exit through its own
  // handle, perhaps after spawn() reaped the child: without PIDFD_INFO_EXIT
  // (before Linux 6.15) its code is then unknown, as README says.
  const [first] = report.firstByPid as Array<{ pid: number; exitCode: number | null; signal: string | null }>
  t.deepEqual(report.firstByPid, [first], 'the old exit, reported once')
  t.is(first.pid, pid)
  t.is(first.signal, null)
  assertChildStatus(t, first.exitCode, 4, 'the old exit code')
  t.true(report.newcomerRunning)
  t.deepEqual(report.allByHandle, [
    { pid, exitCode: 4, signal: null },
    { pid, exitCode: null, signal: 'SIGTERM' },
  ])
  t.deepEqual(report.secondByPid, [{ pid, exitCode: null, signal: 'SIGTERM' }])
})
