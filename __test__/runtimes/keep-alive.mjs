// Run by behaviour.mjs in a runtime of its own: with PIDSET_KEEP=ref, a
// pending wait is all that keeps the runtime alive, so 'exit 3' must come
// before 'end'; with unref, the runtime ends at once ('end' and the pid of
// the sleep it leaves, for the suite to kill).
import { createRequire } from 'node:module'
const { spawn } = createRequire(import.meta.url)('../..')
const unref = process.env.PIDSET_KEEP === 'unref'
const child = unref
  ? spawn('sleep', ['1000'], { stdio: 'ignore' }).unref()
  : spawn('sh', ['-c', 'read line; exit 3'], { stdio: ['pipe', 'ignore', 'ignore'] })
child.exited.then((info) => console.log('exit', info.exitCode))
if (!unref) setTimeout(() => child.stdin.end('go\n'), 0)
process.on('exit', () => console.log(unref ? `end ${child.pid}` : 'end'))
