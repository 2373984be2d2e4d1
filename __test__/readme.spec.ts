// README's code, run as a user pastes it: every ```js and ```ts block is
// written to a file of its own and run by Node as an ES module, importing
// 'pidset' by name (a package may import itself), and so is every file in
// examples/. A block marked `<!-- fragment -->` on the line before it is a
// deliberate fragment and is skipped, by name; one marked
// `<!-- needs kernelSupport().X -->` runs where the kernel has X and is
// skipped, with the reason, where it does not. A trailing comment on a
// `console.log(...)` line is the output it promises, checked line by line.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import ts from 'typescript'
import { kernelSupport, type KernelSupport } from '../index'
import { ROOT, runNode, testUnless } from './helpers'

/** A fenced code block of README. */
interface Block {
  /** `README.md:58 (Quick start)`: its line and the heading above it. */
  name: string
  lang: string
  code: string
  fragment: boolean
  /** The kernelSupport() field it needs, if any. */
  needs: keyof KernelSupport | undefined
}

const RUNNABLE = new Set(['js', 'ts'])

function readmeBlocks(): Block[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')
  const blocks: Block[] = []
  let heading = 'top'
  for (let i = 0; i < lines.length; i++) {
    const title = /^#+ (.*)/.exec(lines[i])
    if (title) heading = title[1].replace(/`/g, '').slice(0, 60)
    const fence = /^```(\w*)/.exec(lines[i])
    if (!fence) continue
    let end = i + 1
    while (end < lines.length && !lines[end].startsWith('```')) end++
    let before = i - 1
    while (before >= 0 && lines[before].trim() === '') before--
    blocks.push({
      name: `README.md:${i + 1} (${heading})`,
      lang: fence[1],
      code: lines.slice(i + 1, end).join('\n') + '\n',
      fragment: before >= 0 && lines[before].startsWith('<!-- fragment'),
      needs: (before >= 0 ? /^<!-- needs kernelSupport\(\)\.(\w+) -->$/.exec(lines[before])?.[1] : undefined) as Block['needs'],
    })
    i = end
  }
  return blocks
}

/** The output lines a block promises: `console.log(...) // hello 3 true`. */
function promisedOutput(code: string): string[] {
  return code
    .split('\n')
    .map((line) => /^\s*console\.log\(.*\)\s*\/\/ (.+)$/.exec(line)?.[1].trim())
    .filter((line): line is string => line !== undefined)
}

/** Where block files go: inside the package, so that `import 'pidset'` finds it. */
const dir = join(ROOT, 'target', 'readme-blocks')
mkdirSync(dir, { recursive: true })

const blocks = readmeBlocks()
const runnable = blocks.filter((b) => RUNNABLE.has(b.lang))
const toRun = runnable.filter((b) => !b.fragment)

test('README has whole programs to run, and says which blocks are fragments', (t) => {
  const fragments = runnable.filter((b) => b.fragment)
  t.log(`running ${toRun.length} of ${runnable.length} JavaScript/TypeScript blocks; fragments skipped: ${fragments.map((b) => b.name).join('; ')}`)
  t.log(`not JavaScript: ${blocks.filter((b) => !RUNNABLE.has(b.lang)).map((b) => `${b.name} (${b.lang || 'plain'})`).join('; ')}`)
  t.true(toRun.length >= 12, 'the quick start, spawn, fromChild, process information, errors and kernel blocks run')
  t.true(toRun.some((b) => b.name.includes('Quick start')))
})

const support = kernelSupport()

for (const [index, block] of toRun.entries()) {
  const needs = block.needs
  if (needs !== undefined && !(needs in support)) throw new Error(`${block.name}: kernelSupport() has no ${needs}`)
  testUnless(needs === undefined || support[needs] ? null : `${block.name} needs kernelSupport().${needs}`)(`${block.name} runs as pasted`, async (t) => {
    const file = join(dir, `block-${index}.mjs`)
    const source =
      block.lang === 'ts'
        ? ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
        : block.code
    writeFileSync(file, source)
    const run = await runNode([file])
    t.is(run.code, 0, `${block.name}\n${run.stderr}`)
    t.is(run.stderr, '', 'nothing on stderr')
    const printed = run.stdout.split('\n').map((line) => line.trim())
    let from = 0
    for (const expected of promisedOutput(block.code)) {
      const at = printed.indexOf(expected, from)
      t.not(at, -1, `prints ${JSON.stringify(expected)} (in order); printed:\n${run.stdout}`)
      if (at !== -1) from = at + 1
    }
  })
}

for (const name of readdirSync(join(ROOT, 'examples'))) {
  test(`examples/${name} runs as it is`, async (t) => {
    const run = await runNode([join(ROOT, 'examples', name)])
    t.is(run.code, 0, run.stderr)
    t.is(run.stderr, '')
    t.not(run.stdout, '')
  })
}
