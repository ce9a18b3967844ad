import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { freePort } from '../../helpers/net.js'
import { request } from 'undici'

// `npm start` as a user runs it: the real bin, no database server, an embedded database in a
// data dir; data written before a restart is there after it.
const bin = new URL('../../../bin/marketgate.js', import.meta.url).pathname
const auth = { authorization: `Basic ${Buffer.from('acme-db:start-test-password').toString('base64')}`, 'content-type': 'application/json' }


async function start (dataDir: string, port: number) {
  const env: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: undefined, MARKETGATE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1',
    MARKETGATE_LOG_LEVEL: 'warn', MARKETGATE_ADMIN_TOKEN: 'start-test-admin-token', HEROKU_ADDON_ID: 'acme-db', HEROKU_ADDON_PASSWORD: 'start-test-password'
  }
  const child = spawn(process.execPath, [bin, 'start'], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  // Bounded: readiness is polled for at most 90 s.
  for (let i = 0; i < 900; i++) {
    const ready = await request(`http://127.0.0.1:${port}/readyz`).then((r) => r.statusCode, () => 0)
    if (ready === 200) break
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { stop: async () => { child.kill('SIGTERM'); return exited } }
}

t.test('npm start serves /readyz with no database server and keeps data across a restart', { timeout: 300_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mg-start-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const port = await freePort()
  const uuid = '0f0e0d0c-0b0a-4908-8706-050403020100'

  const first = await start(dataDir, port)
  const provision = await request(`http://127.0.0.1:${port}/heroku/resources`, { method: 'POST', headers: auth, body: JSON.stringify({ uuid, plan: 'basic' }) })
  t.equal(provision.statusCode, 200)
  const body = await provision.body.json() as { config: Record<string, string> }
  t.equal(await first.stop(), 0, 'a clean stop on SIGTERM')

  const second = await start(dataDir, port)
  t.teardown(() => second.stop())
  const again = await request(`http://127.0.0.1:${port}/heroku/resources`, { method: 'POST', headers: auth, body: JSON.stringify({ uuid, plan: 'basic' }) })
  t.same(await again.body.json(), { ...body }, 'the same account and API key after the restart')
  const list = await request(`http://127.0.0.1:${port}/v1/accounts?external_id=${uuid}`, { headers: { authorization: 'Bearer start-test-admin-token' } })
  t.equal(((await list.body.json()) as { data: unknown[] }).data.length, 1)
})
