// Run under Bun or Deno (__test__/runtimes/run.sh): pidset must never crash
// them. Everything but waiting works; waiting fails with a clear, coded
// error, thrown or rejected where the API says, never an abort or an
// unhandled rejection. Exits 0 when every check holds, else prints the
// failures and exits 1.
import { createRequire } from 'node:module'
import { spawn as cpSpawn } from 'node:child_process'
import { once } from 'node:events'

const require = createRequire(import.meta.url)
const { PidFd, PidSet, spawn, kernelSupport } = require('../..')

const failures = []
const check = (what, ok, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`)
  if (!ok) failures.push(what)
}
const code = (fn) => {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return err.code
  }
}
process.on('unhandledRejection', (err) => check('no unhandled rejection', false, String(err)))

const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : `Node ${process.version}`
console.log(`pidset under ${runtime}`)
check('kernelSupport()', kernelSupport().pidfdOpen === true)

const child = cpSpawn('sleep', ['1000'], { stdio: 'ignore' })
await once(child, 'spawn')
const handle = PidFd.open(child.pid)
check('PidFd.open()', handle.pid === child.pid && handle.fd >= 0)
check('isRunning() while it runs', handle.isRunning() === true)
check('tryWait() while it runs', handle.tryWait() === null)
check('info()', handle.info().pid === child.pid)
check('kill(0)', handle.kill(0) === true)

const waited = await handle.wait().then(() => 'resolved', (err) => err.code)
check('wait() rejects ERR_PIDSET_UNSUPPORTED_RUNTIME', waited === 'ERR_PIDSET_UNSUPPORTED_RUNTIME', waited)
check('new PidSet([pid]) throws ERR_PIDSET_UNSUPPORTED_RUNTIME', code(() => new PidSet([child.pid])) === 'ERR_PIDSET_UNSUPPORTED_RUNTIME')
const empty = new PidSet()
const all = await empty.waitAll().then(() => 'resolved', (err) => err.code)
check('PidSet waitAll() rejects ERR_PIDSET_UNSUPPORTED_RUNTIME', all === 'ERR_PIDSET_UNSUPPORTED_RUNTIME', all)
const subprocess = spawn('sh', ['-c', 'echo started > /dev/stderr'])
const spawned = await subprocess.exited.then(() => 'resolved', (err) => err.code)
check('spawn() starts nothing; exited rejects ERR_PIDSET_UNSUPPORTED_RUNTIME', subprocess.pid === undefined && spawned === 'ERR_PIDSET_UNSUPPORTED_RUNTIME', spawned)

check('kill(SIGKILL)', handle.kill('SIGKILL') === true)
await once(child, 'exit')
const exit = handle.tryWait()
check('tryWait() after the exit', exit !== null && exit.pid === child.pid, JSON.stringify(exit && { exitCode: exit.exitCode, signal: exit.signal }))
check('kill() after the exit sends nothing', handle.kill('SIGKILL') === false)
handle.close()
check('close()', handle.closed === true && handle.fd === -1)

if (failures.length > 0) {
  console.log(`${failures.length} check(s) failed under ${runtime}`)
  process.exit(1)
}
console.log(`all checks passed under ${runtime}`)
