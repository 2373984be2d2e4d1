// A user's ES module: import the installed package by name.
import { spawn } from 'node:child_process'
import { PidFd } from 'pidset'

const child = spawn('sh', ['-c', 'kill -9 $$'])
const pidfd = PidFd.open(child.pid)
const exit = await pidfd.wait({ timeout: 10_000 })
if (exit.signal !== 'SIGKILL') throw new Error(`expected SIGKILL, got ${JSON.stringify(exit)}`)
console.log('esm ok', exit.signal)
pidfd.close()
