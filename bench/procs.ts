// What `npm run bench` and `npm run bench:cpu` share: child processes that print their port,
// and throw-away Postgres databases.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const pgBase = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface Proc { child: ChildProcess, port: number, url: string }

export async function startChild (script: string, env: Record<string, string>): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname], {
    env: { ...process.env, MARKETGATE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit']
  })
  const port = await new Promise<number>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 120 s`)), 120_000)
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      const line = buf.split('\n').find((l) => l.startsWith('{"port"'))
      if (line) { clearTimeout(timer); resolve(JSON.parse(line).port as number) }
    })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
  })
  return { child, port, url: `http://127.0.0.1:${port}` }
}

export async function stopChild (p: Proc): Promise<void> {
  const done = new Promise((resolve) => p.child.once('exit', resolve))
  p.child.kill('SIGTERM')
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))])
  if (p.child.exitCode === null) p.child.kill('SIGKILL')
}

export async function postgresReachable (): Promise<boolean> {
  const c = new pg.Client({ connectionString: pgBase, connectionTimeoutMillis: 2000 })
  try { await c.connect(); await c.end(); return true } catch { return false }
}

export async function freshPostgres (): Promise<{ url: string, drop: () => Promise<void> }> {
  const name = `mg_bench_${randomBytes(4).toString('hex')}`
  const admin = async (sql: string) => { const c = new pg.Client({ connectionString: pgBase }); await c.connect(); try { await c.query(sql) } finally { await c.end() } }
  await admin(`create database ${name}`)
  const url = new URL(pgBase)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) }
}
