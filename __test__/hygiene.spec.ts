// Descriptor hygiene: what pidset opens it closes, collected handles give
// their descriptors back, and every descriptor it holds is close-on-exec.
import { spawn as cpSpawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import test from 'ava'
import { PidFd, PidSet, spawn } from '../index'
import { openedOnceForGood, openFds, runNode, testUnless } from './helpers'

/** What each of this process's descriptors is, by number. */
function descriptors(): Map<number, string> {
  const found = new Map<number, string>()
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      found.set(Number(name), readlinkSync(`/proc/self/fd/${name}`))
    } catch {
      // The directory's own descriptor, closed by now.
    }
  }
  return found
}

/** O_CLOEXEC as /proc/PID/fdinfo shows it (octal flags). */
const O_CLOEXEC = 0o2000000

function isCloseOnExec(fd: number): boolean {
  const flags = /flags:\s*([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1]
  return flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) !== 0
}

test.serial('100,000 open/close cycles leave the descriptor count where it was', async (t) => {
  await openedOnceForGood()
  const before = openFds()
  for (let i = 0; i < 100_000; i++) PidFd.open(process.pid).close()
  t.is(openFds(), before)
})

test.serial('1,000 PidSets, with members and pending waits, closed: nothing left, no epoll instance of their own', async (t) => {
  await openedOnceForGood()
  const before = descriptors()
  const epolls = () => [...descriptors().values()].filter((l) => l === 'anon_inode:[eventpoll]').length
  const epollsBefore = epolls()
  const child = cpSpawn('sleep', ['1000'], { stdio: 'ignore' })
  await once(child, 'spawn')
  const given = PidFd.open(child.pid as number)
  const rejected: Array<Promise<unknown>> = []
  for (let i = 0; i < 1000; i++) {
    const set = new PidSet([child.pid as number, given])
    rejected.push(set.waitAny().catch((e: { code?: string }) => e.code), set.waitAll().catch((e: { code?: string }) => e.code))
    set.close()
  }
  t.deepEqual(new Set(await Promise.all(rejected)), new Set(['EBADF']))
  t.is(epolls(), epollsBefore, 'sets share the one poller of the thread')
  given.close()
  child.kill('SIGKILL')
  await once(child, 'exit')
  await new Promise(setImmediate)
  t.deepEqual([...descriptors().keys()], [...before.keys()])
})

/** The hard limit on open files, which Node raises its soft limit to at start-up. */
function openFilesHardLimit(): number {
  const line = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]
  return line === undefined || line === 'unlimited' ? Infinity : Number(line)
}

const hardLimit = openFilesHardLimit()
testUnless(hardLimit >= 10_200 ? null : `10,000 handles need a hard open-files limit above 10,200 (here ${hardLimit})`)('10,000 handles dropped without close() are collected and give their descriptors back', async (t) => {
  const run = await runNode(['--expose-gc', '-e', `
    const { PidFd } = require('./index.js');
    const { readdirSync } = require('node:fs');
    const count = () => readdirSync('/proc/self/fd').length;
    (async () => {
      PidFd.open(process.pid).close();
      const before = count();
      (() => { for (let i = 0; i < 10_000; i++) PidFd.open(process.pid) })();
      const opened = count();
      // Collection is not immediate: a bounded number of rounds.
      for (let i = 0; i < 50 && count() > before; i++) {
        globalThis.gc();
        await new Promise((r) => setImmediate(r));
      }
      console.log(JSON.stringify({ before, opened, after: count() }));
    })();`], 60_000)
  t.is(run.code, 0, run.stderr)
  const { before, opened, after } = JSON.parse(run.stdout) as { before: number; opened: number; after: number }
  t.is(opened, before + 10_000)
  t.is(after, before)
})

test('every descriptor pidset holds is close-on-exec, and a child_process child inherits none', async (t) => {
  const sleeper = cpSpawn('sleep', ['1000'], { stdio: 'ignore' })
  await once(sleeper, 'spawn')
  const before = descriptors()
  const pidfd = PidFd.open(sleeper.pid as number)
  const set = new PidSet([sleeper.pid as number])
  const waiting = set.waitAny()
  const child = spawn('cat')
  const added = [...descriptors()].filter(([fd]) => !before.has(fd))
  // A pidfd each for the handle, the set's member and the subprocess (two:
  // pidset's and the user's), the three stream sockets, maybe the poller.
  t.true(added.length >= 7, JSON.stringify(added))
  for (const [fd, what] of added) t.true(isCloseOnExec(fd), `${fd} (${what}) is close-on-exec`)
  // child_process marks nothing itself: the flags are what keep them out.
  const ls = cpSpawn('ls', ['-l', '/proc/self/fd'], { stdio: ['ignore', 'pipe', 'ignore'] })
  let listing = ''
  ls.stdout.on('data', (d: Buffer) => (listing += d))
  await once(ls, 'close')
  // Past its three streams, nothing of pidset's: no pidfd, epoll instance
  // or stream socket. (The test runner's own inherited pipes may be there.)
  const inherited = listing
    .split('\n')
    .map((line) => / (\d+) -> (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) > 2 && /pidfd|eventpoll|socket/.test(m[2]))
  t.deepEqual(inherited.map((m) => m[0]), [])
  child.stdin?.end()
  await child.output()
  child.pidfd?.close()
  sleeper.kill('SIGKILL')
  await waiting
  pidfd.close()
  set.close()
})
