import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface BlockResult { code: number | null, stdout: string, stderr: string }

/**
 * One bash process that runs blocks one after the other, as a reader pasting them into one
 * shell does: variables, functions and background jobs of a block are there for the next.
 * Each block is a file `source`d with stdin from /dev/null (a command reading stdin must not
 * eat the next block). Bash runs with `set -euo pipefail`, so a failing command ends the
 * session; a marker printed after the block says it got through.
 */
export function bashSession (cwd: string, env: NodeJS.ProcessEnv) {
  // detached: bash leads its own process group, so `stop` ends it and whatever it left running.
  const child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  let exitCode: number | null | undefined
  let wake = () => {}
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); wake() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.once('exit', (code, signal) => { exitCode = code ?? (signal === null ? null : 128); wake() })
  child.stdin.on('error', () => {}) // bash gone: `run` reports its exit instead
  child.stdin.write('set -euo pipefail\n')
  let count = 0

  return {
    /** Runs one block; resolves once it is through, bash has exited, or `timeoutMs` passed. */
    async run (text: string, timeoutMs: number): Promise<BlockResult> {
      const n = ++count
      const file = join(cwd, `.block-${n}.sh`)
      writeFileSync(file, `${text}\n`)
      const marker = `__readme_block_${n}_done__`
      stdout = ''
      stderr = ''
      child.stdin.write(`source ${JSON.stringify(file)} </dev/null\nprintf '\\n%s\\n' ${marker}\n`)
      await new Promise<void>((resolve) => {
        const finish = () => { clearTimeout(timer); wake = () => {}; resolve() }
        const timer = setTimeout(finish, timeoutMs)
        wake = () => { if (stdout.includes(marker) || exitCode !== undefined) finish() }
        wake()
      })
      const done = stdout.includes(marker)
      return { code: done ? 0 : (exitCode ?? null), stdout: stdout.replace(`\n${marker}\n`, ''), stderr }
    },

    /** Ends bash and every process of its group (a receiver a failed block left running). */
    stop (): void {
      try { process.kill(-child.pid!, 'SIGTERM') } catch { /* the group is gone already */ }
    }
  }
}
