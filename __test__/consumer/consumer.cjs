// A user's CommonJS program: require the installed package and use it.
const { spawn } = require('node:child_process')
const { PidFd, PidSet } = require('pidset')

const child = spawn('sh', ['-c', 'exit 7'])
const set = new PidSet([child.pid])
PidFd.open(process.pid).close()
set.waitAny().then((exit) => {
  if (exit.exitCode !== 7) throw new Error(`expected exit code 7, got ${JSON.stringify(exit)}`)
  console.log('cjs ok', exit.exitCode)
  set.close()
})
