// Watches several processes with one PidSet and prints each exit as it
// happens. Run from a clone after `npm run build` (a package may import
// itself by name), or from a project that depends on pidset:
//   node examples/watch-many.mjs            (starts a few children of its own)
//   node examples/watch-many.mjs 1234 5678  (watches existing processes)
import { spawn } from 'node:child_process'
import { PidSet } from 'pidset'

const pids = process.argv.slice(2).map(Number)
if (pids.length === 0) {
  // Some children that end in different ways, at different times.
  const scripts = ['sleep 0.3; exit 0', 'sleep 0.1; exit 3', 'sleep 0.2; kill -9 $$', 'sleep 0.4; exit 42']
  for (const script of scripts) pids.push(spawn('sh', ['-c', script], { stdio: 'inherit' }).pid)
}

const set = new PidSet(pids)
console.log(`watching ${set.size} processes: ${[...set.values()].map((p) => p.pid).join(', ')}`)
const started = process.hrtime.bigint()
for await (const exit of set) {
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const how = exit.signal ? `killed by ${exit.signal}` : exit.exitCode === null ? 'exited (status unknown)' : `exited with code ${exit.exitCode}`
  const cpu = exit.rusage ? `, ${(exit.rusage.userCPUTime + exit.rusage.systemCPUTime) / 1000} ms CPU` : ''
  console.log(`+${ms.toFixed(1)} ms  pid ${exit.pid} ${how}${cpu}  (${set.size} left)`)
}
set.close()
