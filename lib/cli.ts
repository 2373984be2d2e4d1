#!/usr/bin/env node
// `pidset` on the command line: wait, kill, run and tree (one module per
// command: cli-wait.ts, cli-kill.ts, cli-run.ts, cli-tree.ts).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CommandError, STATUS, UsageError } from './cli-common'
import { KILL_HELP, kill } from './cli-kill'
import { RUN_HELP, run } from './cli-run'
import { TREE_HELP, tree } from './cli-tree'
import { WAIT_HELP, wait } from './cli-wait'

const HELP = `Usage: pidset COMMAND [OPTIONS] [ARGS...]

Race-free process handles (pidfds) from the shell.

Commands:
  wait   wait for processes to exit, and report each exit
  kill   signal processes through handles opened first
  run    run a command, report its exit and resources, time it out
  tree   show the process tree under a PID, or kill it whole

Run \`pidset COMMAND --help\` for a command's options and examples.
  -h, --help      this help
  -v, --version   pidset's version`

const COMMANDS: Record<string, { help: string; run: (args: string[]) => Promise<number> }> = {
  wait: { help: WAIT_HELP, run: (args) => wait(args, process.stdout, process.stderr) },
  kill: { help: KILL_HELP, run: (args) => kill(args, process.stdout) },
  run: { help: RUN_HELP, run: (args) => run(args, process.stderr) },
  tree: { help: TREE_HELP, run: (args) => tree(args, process.stdout) },
}

/** Runs the command line `argv` (without node and the script); resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '-h' || name === '--help') {
    process.stdout.write(`${HELP}\n`)
    return name === undefined ? STATUS.usage : STATUS.ok
  }
  if (name === '-v' || name === '--version') {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
    process.stdout.write(`${version}\n`)
    return STATUS.ok
  }
  const command = COMMANDS[name]
  if (!command) return usage(`unknown command '${name}' (wait, kill, run or tree)`)
  // Help before anything else, but not from run's command line (`-- cmd --help`).
  const own = name === 'run' ? rest.slice(0, Math.max(0, rest.indexOf('--'))) : rest
  if (own.includes('-h') || own.includes('--help') || (name === 'run' && !rest.includes('--') && rest.some((a) => a === '-h' || a === '--help'))) {
    process.stdout.write(`${command.help}\n`)
    return STATUS.ok
  }
  try {
    return await command.run(rest)
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message, name)
    if (err instanceof CommandError) {
      process.stderr.write(`pidset ${name}: ${err.message}\n`)
      return STATUS.failed
    }
    process.stderr.write(`pidset ${name}: ${(err as Error).message}\n`)
    return STATUS.failed
  }
}

function usage(message: string, command?: string): number {
  process.stderr.write(`pidset${command ? ` ${command}` : ''}: ${message} (see pidset ${command ? `${command} ` : ''}--help)\n`)
  return STATUS.usage
}

if (require.main === module) {
  // A reader that stops early (`pidset tree 1 | head`) is not an error:
  // end quietly, as a program killed by SIGPIPE would, without a trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.exit(STATUS.ok)
  })
  main(process.argv.slice(2)).then(
    (status) => {
      process.exitCode = status
    },
    (err: unknown) => {
      process.stderr.write(`pidset: ${String(err)}\n`)
      process.exitCode = STATUS.failed
    },
  )
}
