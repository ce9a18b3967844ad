import { readFileSync } from 'node:fs'

/** One fenced block of the README with an `example…` info string, in document order. */
export interface ExampleBlock {
  kind: 'example' | 'example-skip' | 'example-server'
  /** 1-based line of the opening fence, for messages that point at the README. */
  line: number
  text: string
}

const fence = /^```sh (example|example-skip|example-server)\s*$/

/**
 * The README's example blocks (the scheme of its "Keeping the examples true" note). A fence
 * that is never closed is an error, so a broken README fails loudly instead of running less.
 */
export function exampleBlocks (readmePath: string): ExampleBlock[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n')
  const blocks: ExampleBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i] ?? '')
    if (open === null) continue
    const end = lines.indexOf('```', i + 1)
    if (end === -1) throw new Error(`README.md:${i + 1}: unclosed example block`)
    blocks.push({ kind: open[1] as ExampleBlock['kind'], line: i + 1, text: lines.slice(i + 1, end).join('\n') })
    i = end
  }
  return blocks
}

const assignment = /([A-Z][A-Z0-9_]*)=("[^"]*"|'[^']*'|[^\s"']*)/g

/**
 * The environment an `example-server` block sets: its `export NAME=value …` lines, with
 * literal values only (a `$` would make the test's gateway differ from the reader's), and
 * nothing but `npm start` after them.
 */
export function serverEnvironment (block: ExampleBlock): Record<string, string> {
  const env: Record<string, string> = {}
  const commands = block.text.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#'))
  if (commands.at(-1) !== 'npm start') throw new Error(`README.md:${block.line}: the server block must end with npm start`)
  for (const command of commands.slice(0, -1)) {
    if (!command.startsWith('export ')) throw new Error(`README.md:${block.line}: only export lines before npm start, got: ${command}`)
    const rest = command.slice('export '.length)
    if (rest.includes('$')) throw new Error(`README.md:${block.line}: values must be literal: ${command}`)
    if (rest.replace(assignment, '').trim() !== '') throw new Error(`README.md:${block.line}: not NAME=value pairs: ${command}`)
    for (const [, name = '', value = ''] of rest.matchAll(assignment)) env[name] = value.replace(/^(["'])(.*)\1$/, '$2')
  }
  return env
}
