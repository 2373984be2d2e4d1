// A worker for behaviour.mjs: waits for a child of its own and posts its
// exit; with workerData 'pending', posts once its wait is pending and
// waits until terminated.
import { createRequire } from 'node:module'
import { parentPort, workerData } from 'node:worker_threads'
const { spawn } = createRequire(import.meta.url)('../..')
if (workerData === 'pending') {
  spawn('sleep', ['1000'], { stdio: 'ignore' }).exited.catch(() => {})
  parentPort.postMessage('pending')
} else {
  const info = await spawn('sh', ['-c', 'exit 6'], { stdio: 'ignore' }).exited
  parentPort.postMessage(`exit ${info.exitCode}`)
}
