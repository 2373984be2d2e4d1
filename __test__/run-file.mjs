// npm run test:file -- __test__/NAME.spec.ts [ava options...]
// Runs one test file from its TypeScript source: compiles the library and
// the tests first (so what runs is never stale), builds the addons if they
// are missing, then runs ava on that file, with errors pointing at .ts
// lines (source maps). Any ava option passes through: `-m 'title*'` runs
// the tests whose titles match.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const [file, ...rest] = process.argv.slice(2)
if (!file || !/\.spec\.ts$/.test(file)) {
  console.error('usage: npm run test:file -- __test__/NAME.spec.ts [ava options, e.g. -m "title*"]')
  process.exit(2)
}
const source = relative(root, join(process.cwd(), file))
if (!existsSync(join(root, source))) {
  console.error(`no such test file: ${source}`)
  process.exit(2)
}

/** Runs a command in the repository, or exits with its status. */
function run(command, args) {
  const ran = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (ran.status !== 0) process.exit(ran.status ?? 1)
}

const bin = (name) => join(root, 'node_modules', '.bin', name)
if (!existsSync(join(root, 'pidset.linux-x64-gnu.node'))) run('npm', ['run', 'build:native'])
if (!existsSync(join(root, 'target', 'faults', 'pidset.node'))) run('npm', ['run', 'build:faults'])
run(bin('tsc'), ['-p', 'tsconfig.json'])
run(bin('tsc'), ['-p', '__test__/tsconfig.json'])
run(bin('ava'), [source.replace(/\.ts$/, '.js'), ...rest])
