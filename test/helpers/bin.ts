import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'undici'

/** The real `marketgate` bin, as `npx marketgate` runs it. */
export const bin = new URL('../../bin/marketgate.js', import.meta.url).pathname

/** An environment without the suite's own DATABASE_URL, so a spawned gateway picks its engine from `env`. */
export function binEnv (env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: undefined, MARKETGATE_LOG_LEVEL: 'warn', ...env } as NodeJS.ProcessEnv
}

/** Runs the bin to its end (bounded by `timeoutMs`): its exit code and what it printed. */
export async function runBin (args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { env: binEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

export interface RunningBin {
  child: ChildProcess
  output: () => { stdout: string, stderr: string }
  /** SIGTERM, then its exit code. */
  stop: () => Promise<number | null>
}

/** Starts a long-running command and waits (at most 90 s) until `readyUrl` answers 200. */
export async function startBin (args: string[], env: Record<string, string | undefined>, readyUrl: string): Promise<RunningBin> {
  const child = spawn(process.execPath, [bin, ...args], { env: binEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  for (let i = 0; ; i++) {
    const status = await request(readyUrl).then(async (r) => { await r.body.dump(); return r.statusCode }, () => 0)
    if (status === 200) break
    if (child.exitCode !== null || i >= 900) { child.kill('SIGKILL'); throw new Error(`not ready (exit ${child.exitCode}): ${stderr}`) }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { child, output: () => ({ stdout, stderr }), stop: async () => { if (child.exitCode === null) child.kill('SIGTERM'); return exited } }
}
