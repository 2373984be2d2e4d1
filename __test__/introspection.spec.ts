// What a pidfd tells and reaches of its process, against real processes:
// info(), id/equals(), getFd(), kill() scopes, fromFd(), peerPidFd() and
// namespace(). Each feature is tested where the kernel has it (probed, see
// kernelSupport()), and the error naming the Linux version it needs where
// the kernel lacks it; the other test shows as skipped, with the reason.
import { spawn as cpSpawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import test from 'ava'
import { PidFd, PidSet, kernelSupport, peerPidFd, spawn } from '../index'
import { builtFixture, lines, nextLine, ROOT, runCommand, sh, setprivBlocker, sleeper, start, testUnless } from './helpers'

const support = kernelSupport()

/** A test of a feature, skipped (with the reason) where the kernel lacks it. */
function withFeature(has: boolean, feature: string): typeof test {
  return testUnless(has ? null : `this kernel lacks ${feature}`)
}

/** A test of the error on a kernel without a feature, skipped where it has it. */
function withoutFeature(has: boolean, feature: string): typeof test {
  return testUnless(has ? `this kernel has ${feature}, so it gives no error to test` : null)
}

/** The lines a child_process child writes to stdout (piped). */
function outputOf(child: ChildProcess): AsyncIterator<string> {
  if (!child.stdout) throw new Error('stdout is not piped')
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]()
}

/** Whether the cgroup v2 hierarchy is mounted where its IDs can be read (not in the kernel matrix's guests). */
const cgroup2Mounted = readFileSync('/proc/self/mounts', 'utf8')
  .split('\n')
  .some((l) => l.split(' ')[1] === '/sys/fs/cgroup' && l.split(' ')[2] === 'cgroup2')

/** The cgroup v2 ID of process `pid`, as the kernel defines it: its directory's inode. */
function cgroupIdOf(pid: number): bigint | null {
  if (!cgroup2Mounted) return null
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))
  if (line === undefined) return null
  try {
    return statSync(`/sys/fs/cgroup${line.slice(3)}`, { bigint: true }).ino
  } catch {
    return null
  }
}

test('info() tells the pid, parent, credentials and cgroup of a running process', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const info = pidfd.info()
  t.true(Object.isFrozen(info))
  t.is(info.pid, child.pid)
  t.is(info.tgid, child.pid)
  t.is(info.ppid, process.pid)
  const uid = process.getuid?.() ?? -1
  const gid = process.getgid?.() ?? -1
  t.deepEqual([info.uid, info.euid, info.suid, info.fsuid], [uid, uid, uid, uid])
  t.deepEqual([info.gid, info.egid, info.sgid, info.fsgid], [gid, gid, gid, gid])
  if (cgroup2Mounted) t.is(info.cgroupId, cgroupIdOf(child.pid))
  else t.true(info.cgroupId === null || typeof info.cgroupId === 'bigint', 'no cgroup v2 mount to compare with')
  child.proc.kill('SIGKILL')
  await child.exited
  t.throws(() => pidfd.info(), { code: 'ESRCH' })
  pidfd.close()
  t.throws(() => pidfd.info(), { code: 'EBADF' })
})

test('info() without PIDFD_GET_INFO (as Linux 6.12, by seccomp) reads /proc and agrees with the ioctl', async (t) => {
  const helper = builtFixture('seccomp-pidfd', 'program')
  if (!helper) return t.fail('no C compiler for the seccomp helper')
  const child = sleeper(t)
  const ioctl = PidFd.open(child.pid).info()
  const direct = { ...ioctl, cgroupId: String(ioctl.cgroupId) }
  const script = `const { PidFd, kernelSupport } = require('./index.js');
    const info = PidFd.open(${child.pid}).info();
    console.log(JSON.stringify({ getInfo: kernelSupport().getInfo, info: { ...info, cgroupId: String(info.cgroupId) } }))`
  const run = await runCommand(helper, ['6.12', process.execPath, '-e', script], { cwd: ROOT })
  t.is(run.code, 0, run.stderr)
  const out = JSON.parse(run.stdout) as { getInfo: boolean; info: typeof direct }
  t.false(out.getInfo, 'the ioctl is refused')
  // /proc gives the cgroup only where cgroup v2 is mounted (the ioctl always).
  if (!cgroup2Mounted) out.info.cgroupId = direct.cgroupId
  t.deepEqual(out.info, direct)
})

testUnless(setprivBlocker())("another user's process: its credentials, and the permission errors", async (t) => {
  // setpriv changes user, then the shell says so: info() is read after that.
  const other = start(t, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'echo ready; exec sleep 1000')
  t.is(await nextLine(lines(other)), 'ready')
  const info = PidFd.open(other.pid).info()
  t.deepEqual([info.uid, info.euid, info.suid, info.fsuid, info.gid, info.egid], [65534, 65534, 65534, 65534, 65534, 65534])
  // And from the other side: uid 65534 may see root's process, not reach into it.
  const root = sleeper(t)
  const script = `const { PidFd } = require(${JSON.stringify(join(ROOT, 'index.js'))});
    const h = PidFd.open(${root.pid});
    const attempt = (f) => { try { f(); return 'ok' } catch (e) { return e.code } };
    console.log(JSON.stringify({ uid: h.info().uid, getFd: attempt(() => h.getFd(0)), kill: attempt(() => h.kill('SIGKILL')), ns: attempt(() => h.namespace('net')) }))`
  const run = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { cwd: '/' })
  t.is(run.code, 0, run.stderr)
  const seen = JSON.parse(run.stdout) as Record<string, unknown>
  t.is(seen.uid, 0)
  t.is(seen.getFd, support.getFd ? 'EPERM' : 'ENOSYS')
  t.is(seen.kill, 'EPERM')
  t.is(seen.ns, support.namespaces ? 'EACCES' : 'ENOTTY')
})

withFeature(support.pidfs, 'pidfs (Linux 6.9)')('id and equals() compare processes, not PIDs or handles, before and after the exit', async (t) => {
  const a = sleeper(t)
  const b = sleeper(t)
  const first = PidFd.open(a.pid)
  const second = PidFd.open(a.pid)
  const other = PidFd.open(b.pid)
  t.is(typeof first.id, 'bigint')
  t.is(first.id, second.id)
  t.not(first.id, other.id)
  t.true(first.equals(second))
  t.false(first.equals(other))
  const set = new PidSet([first])
  t.true(set.has(second), 'another handle to the member process')
  t.false(set.has(other))
  a.proc.kill('SIGKILL')
  await a.exited
  t.true(first.equals(second), 'still the same process after its exit')
  t.is(first.id, second.id)
  set.close()
  for (const h of [first, second, other]) h.close()
  t.throws(() => first.id, { code: 'EBADF' })
  t.throws(() => second.equals({} as PidFd), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

withoutFeature(support.pidfs, 'pidfs (Linux 6.9)')('before pidfs, id names Linux 6.9 and equals() still tells running processes apart', async (t) => {
  const a = sleeper(t)
  const first = PidFd.open(a.pid)
  const error = t.throws(() => first.id, { code: 'ENOSYS' })
  t.regex(error?.message ?? '', /Linux 6\.9/)
  t.true(first.equals(PidFd.open(a.pid)))
  t.false(first.equals(PidFd.open(sleeper(t).pid)))
})

withFeature(support.getFd, 'pidfd_getfd (Linux 5.6)')('getFd() takes over the listening socket of another Node process, which can then exit', async (t) => {
  const server = `const s = require('node:net').createServer((c) => c.end('old')).listen(0, '127.0.0.1', () =>
    console.log(JSON.stringify({ port: s.address().port, fd: s._handle.fd })))`
  const old = start(t, process.execPath, '-e', server)
  const { port, fd } = JSON.parse(await nextLine(lines(old))) as { port: number; fd: number }
  const pidfd = PidFd.open(old.pid)
  const taken = pidfd.getFd(fd)
  t.true(fstatSync(taken).isSocket(), 'a socket, in this process')
  pidfd.kill('SIGKILL')
  await pidfd.wait()
  // The old process is gone; its socket, now ours, still listens.
  const ours = createServer((c) => c.end('new')).listen({ fd: taken })
  await once(ours, 'listening')
  const reply = await new Promise<string>((resolve, reject) => {
    let text = ''
    connect(port, '127.0.0.1')
      .on('data', (d) => (text += String(d)))
      .on('end', () => resolve(text))
      .on('error', reject)
  })
  t.is(reply, 'new')
  ours.close()
  t.throws(() => pidfd.getFd(0), { code: 'ESRCH' }, 'nothing to take from once it has exited')
  t.throws(() => pidfd.getFd(-1), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => pidfd.getFd('3' as unknown as number), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

withFeature(support.signalScope, 'PIDFD_SIGNAL_* (Linux 6.9)')("kill() with scope 'process-group' reaches the whole group, and 'thread' the main thread", async (t) => {
  // A shell leading a group of its own, with a sleep in it; started by
  // pidset, so that its exit status is known on every kernel.
  const leader = spawn('sh', ['-c', 'sleep 1000 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
  t.teardown(() => leader.kill('SIGKILL'))
  const leaderFd = leader.pidfd as PidFd
  const memberPid = Number(await nextLine(createInterface({ input: leader.stdout as Readable })[Symbol.asyncIterator]()))
  const member = PidFd.open(memberPid)
  t.true(leaderFd.kill('SIGTERM', { scope: 'process-group' }))
  const [leaderExit, memberExit] = await Promise.all([leader.exited, member.wait()])
  t.is(leaderExit.signal, 'SIGTERM')
  // The member's parent died with it, so its status comes only if whoever
  // inherits it reaps it in time (this machine's init may not): when known, it is SIGTERM.
  t.is(memberExit.pid, memberPid)
  t.true(memberExit.signal === 'SIGTERM' || memberExit.signal === null, String(memberExit.signal))
  t.false(member.isRunning(), 'the member got it too')
  const alone = spawn('sleep', ['1000'])
  const pidfd = alone.pidfd as PidFd
  t.true(pidfd.kill('SIGKILL', { scope: 'thread' }))
  t.is((await alone.exited).signal, 'SIGKILL')
  t.false(pidfd.kill('SIGKILL', { scope: 'process-group' }), 'false once exited, as for any scope')
  // A running process that leads no group (not detached: it is in our
  // group): an error that says so, not `false`, and nothing sent to anyone.
  const member2 = spawn('sleep', ['1000'])
  t.teardown(() => member2.kill('SIGKILL'))
  const error = t.throws(() => member2.pidfd?.kill('SIGTERM', { scope: 'process-group' }), { code: 'ESRCH', message: /leads no process group/ })
  t.is((error as Error & { pid?: number }).pid, member2.pid)
  t.true(member2.pidfd?.isRunning())
  t.true(member2.kill('SIGKILL'))
  t.is((await member2.exited).signal, 'SIGKILL')
  t.throws(() => pidfd.kill('SIGTERM', { scope: 'session' as never }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => pidfd.kill('SIGTERM', 'process' as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

withoutFeature(support.signalScope, 'PIDFD_SIGNAL_* (Linux 6.9)')('before Linux 6.9, a kill() scope is ENOSYS naming the version, and nothing is sent', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  const error = t.throws(() => pidfd.kill('SIGKILL', { scope: 'process-group' }), { code: 'ENOSYS' })
  t.regex(error?.message ?? '', /Linux 6\.9/)
  t.true(pidfd.isRunning())
  t.true(pidfd.kill('SIGKILL', { scope: 'process' }))
})

test('fromFd() adopts an inherited pidfd in another process, and refuses what is not one', async (t) => {
  const target = sleeper(t)
  const pidfd = PidFd.open(target.pid)
  const script = `const { PidFd } = require('./index.js');
    const h = PidFd.fromFd(3);
    console.log(h.pid, h.fd !== 3, h.isRunning());
    h.wait().then((e) => console.log('exited', e.pid))`
  const child = cpSpawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit', pidfd.fd] })
  const out = outputOf(child)
  t.is(await nextLine(out), `${target.pid} true true`)
  const copy = PidFd.fromFd(pidfd.fd)
  t.not(copy.fd, pidfd.fd, 'a duplicate: the given descriptor stays the caller’s')
  t.true(copy.equals(pidfd))
  copy.close()
  t.false(pidfd.closed)
  target.proc.kill('SIGKILL')
  t.is(await nextLine(out), `exited ${target.pid}`)
  const nul = openSync('/dev/null', 'r')
  t.throws(() => PidFd.fromFd(nul), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /not a pidfd/ })
  closeSync(nul)
  t.throws(() => PidFd.fromFd(nul), { code: 'EBADF' })
  t.throws(() => PidFd.fromFd(-1), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  await target.exited
  t.throws(() => PidFd.fromFd(pidfd.fd), { code: 'ESRCH' }, 'a pidfd of a reaped process names no PID')
})

withFeature(support.peerPidfd, 'SO_PEERPIDFD (Linux 6.5)')('peerPidFd() names the client process of a Unix-domain socket, which the server can then watch and signal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-peer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'server.sock')
  let server: Server | undefined
  const accepted = new Promise<Socket>((resolve) => (server = createServer(resolve).listen(path)))
  t.teardown(() => server?.close())
  await once(server as unknown as Server, 'listening')
  const client = start(t, process.execPath, '-e', `require('node:net').connect(${JSON.stringify(path)}, () => console.log('connected'))`)
  const socket = await accepted
  const peer = peerPidFd(socket)
  t.is(peer.pid, client.pid)
  t.true(peer.equals(PidFd.open(client.pid)))
  t.true(peer.kill('SIGTERM'))
  const exit = await peer.wait()
  t.is(exit.pid, client.pid)
  t.true(exit.signal === 'SIGTERM' || (exit.signal === null && !support.exitInfo))
  socket.destroy()
  const tcp = createServer().listen(0, '127.0.0.1')
  await once(tcp, 'listening')
  const address = tcp.address() as { port: number }
  const tcpClient = connect(address.port, '127.0.0.1')
  await once(tcpClient, 'connect')
  t.throws(() => peerPidFd(tcpClient), { code: 'ENODATA', message: /not a Unix-domain socket/ })
  tcpClient.destroy()
  tcp.close()
  t.throws(() => peerPidFd(tcpClient), { code: 'ENOTCONN' })
  t.throws(() => peerPidFd({} as Socket), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

withFeature(support.peerPidfd, 'SO_PEERPIDFD (Linux 6.5)')('peerPidFd() of a socket whose peer has exited and been reaped is ESRCH from getsockopt SO_PEERPIDFD', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-peer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'server.sock')
  let server: Server | undefined
  // Half-open allowed: the socket stays ours after the client has gone.
  const accepted = new Promise<Socket>((resolve) => (server = createServer({ allowHalfOpen: true }, resolve).listen(path)))
  t.teardown(() => server?.close())
  await once(server as unknown as Server, 'listening')
  const client = spawn(process.execPath, ['-e', `require('node:net').connect(${JSON.stringify(path)}, () => process.exit(0))`])
  const socket = await accepted
  t.teardown(() => socket.destroy())
  // Resolves once pidset has reaped it.
  t.is((await client.exited).exitCode, 0)
  const err = t.throws(() => peerPidFd(socket), { code: 'ESRCH', message: /exited and been reaped/ })
  t.is((err as Error & { syscall?: string }).syscall, 'getsockopt SO_PEERPIDFD')
})

withoutFeature(support.peerPidfd, 'SO_PEERPIDFD (Linux 6.5)')('before Linux 6.5, peerPidFd() is ENOPROTOOPT naming the version', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pidset-peer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'server.sock')
  const server = createServer().listen(path)
  await once(server, 'listening')
  const socket = connect(path)
  await once(socket, 'connect')
  const error = t.throws(() => peerPidFd(socket), { code: 'ENOPROTOOPT' })
  t.regex(error?.message ?? '', /Linux 6\.5/)
  socket.destroy()
  server.close()
})

withFeature(support.namespaces, 'PIDFD_GET_*_NAMESPACE (Linux 6.11)')('namespace() gives a descriptor of the process namespace of each kind', async (t) => {
  const child = sleeper(t)
  const pidfd = PidFd.open(child.pid)
  for (const kind of ['net', 'pid', 'mnt', 'uts', 'ipc', 'user', 'cgroup'] as const) {
    const fd = pidfd.namespace(kind)
    t.is(fstatSync(fd).ino, statSync(`/proc/${child.pid}/ns/${kind}`).ino, kind)
    closeSync(fd)
  }
  t.throws(() => pidfd.namespace('network' as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  child.proc.kill('SIGKILL')
  await child.exited
  t.throws(() => pidfd.namespace('net'), { code: 'ESRCH' })
})

withoutFeature(support.namespaces, 'PIDFD_GET_*_NAMESPACE (Linux 6.11)')('before Linux 6.11, namespace() is ENOTTY naming the version', (t) => {
  const pidfd = PidFd.open(process.pid)
  const error = t.throws(() => pidfd.namespace('net'), { code: 'ENOTTY' })
  t.regex(error?.message ?? '', /Linux 6\.11/)
  pidfd.close()
})

test('a process that exits while it is being asked about is reported gone, never mistaken', async (t) => {
  // Many short-lived processes, each asked about around its exit: info()
  // either describes it (its own PID, our child) or says ESRCH.
  for (let i = 0; i < 50; i++) {
    const child = sh(t, 'exit 0')
    const pidfd = PidFd.open(child.pid)
    try {
      const info = pidfd.info()
      t.is(info.pid, child.pid)
      t.is(info.ppid, process.pid)
    } catch (err) {
      t.is((err as { code?: string }).code, 'ESRCH')
    }
    await child.exited
    t.throws(() => pidfd.info(), { code: 'ESRCH' })
    pidfd.close()
  }
})
