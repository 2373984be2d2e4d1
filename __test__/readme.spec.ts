// README's code, run as a user pastes it: every ```js and ```ts block is
// written to a file of its own and run by Node as an ES module, importing
// 'pidset' by name (a package may import itself), and so is every file in
// examples/. A block marked `<!-- fragment -->` on the line before it is a
// deliberate fragment and is skipped, by name; one marked
// `<!-- needs kernelSupport().X -->` runs where the kernel has X and is
// skipped, with the reason, where it does not. A trailing comment on a
// `console.log(...)` line is the output it promises, checked line by line.
// README is read with a CommonMark parser, as it renders, and checked to
// render as its source reads.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import ts from 'typescript'
import { Parser, type Node } from 'commonmark'
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

const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const LINES = README.split('\n')
/** README as a CommonMark parser (the reference one, as GitHub's follows the spec) reads it. */
const document = new Parser().parse(README)

/** Every node of `root`, in document order, each once (on entering it). */
function nodesOf(root: Node): Node[] {
  const nodes: Node[] = []
  const walker = root.walker()
  for (let step = walker.next(); step; step = walker.next()) if (step.entering) nodes.push(step.node)
  return nodes
}

/** Whether `node` is a fenced code block (not an indented one): it starts at a fence. */
function isFenced(node: Node): boolean {
  return node.type === 'code_block' && /^\s*(```|~~~)/.test(LINES[node.sourcepos[0][0] - 1] ?? '')
}

/** The text of a heading as it renders (code spans included). */
function textOf(node: Node): string {
  return nodesOf(node)
    .filter((n) => n.type === 'text' || n.type === 'code')
    .map((n) => n.literal ?? '')
    .join('')
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

function readmeBlocks(): Block[] {
  const blocks: Block[] = []
  let heading = 'top'
  for (const node of nodesOf(document)) {
    if (node.type === 'heading') heading = textOf(node).slice(0, 60)
    if (!isFenced(node)) continue
    const line = node.sourcepos[0][0]
    // The HTML comment on the line before it, which CommonMark reads as an HTML block.
    const marker = node.prev?.type === 'html_block' ? (node.prev.literal ?? '').trim() : ''
    blocks.push({
      name: `README.md:${line} (${heading})`,
      lang: (node.info ?? '').split(/\s/)[0],
      code: node.literal ?? '',
      fragment: marker.startsWith('<!-- fragment'),
      needs: /^<!-- needs kernelSupport\(\)\.(\w+) -->$/.exec(marker)?.[1] as Block['needs'],
    })
  }
  return blocks
}

test('README renders as written: every fence closes, every heading renders as one, every #anchor link resolves', (t) => {
  // A fence that never closes runs to the end of the document: its last
  // line is then not a closing fence.
  for (const node of nodesOf(document).filter(isFenced)) {
    const last = LINES[node.sourcepos[1][0] - 1] ?? ''
    t.regex(last, /^\s*(```|~~~)\s*$/, `the code block at README.md:${node.sourcepos[0][0]} closes`)
  }
  // The headings a reader of the source sees (lines starting with #,
  // outside ``` fences as they look) are the ones that render.
  const seen: string[] = []
  let inFence = false
  for (const line of LINES) {
    if (line.startsWith('```')) inFence = !inFence
    else if (!inFence && /^#{1,6} /.test(line)) seen.push(line)
  }
  const rendered = nodesOf(document)
    .filter((n) => n.type === 'heading')
    .map((n) => LINES[n.sourcepos[0][0] - 1])
  t.deepEqual(rendered, seen)
  const anchors = new Set(nodesOf(document).filter((n) => n.type === 'heading').map((n) => slug(textOf(n))))
  const links = nodesOf(document).filter((n) => n.type === 'link' && (n.destination ?? '').startsWith('#'))
  t.true(links.length > 0)
  for (const link of links) t.true(anchors.has((link.destination ?? '').slice(1)), `${link.destination} leads to a heading`)
})

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
