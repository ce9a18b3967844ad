// The hook case of `npm run bench`: provisioning with a vendor hook that answers at once,
// against provisioning without one, in the same run on the same engine (BENCH_CASES=hook).
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type autocannon from 'autocannon'
import { Webhook } from 'standardwebhooks'
import { startChild, stopChild } from './procs.js'

type Row = Record<string, string | number>
type Load = (url: string, path: string, headers: Record<string, string>, body: () => unknown, seconds?: number) => Promise<autocannon.Result>

const secret = `whsec_${Buffer.from('bench-hook-secret-0123456789-abcd').toString('base64')}`

/** A vendor hook that verifies each ask with standardwebhooks and allows it at once. */
async function startHook () {
  const wh = new Webhook(secret)
  let asked = 0
  let failed = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        wh.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>)
        asked++
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"allow":true,"config":{"BENCH_ADDON_URL":"https://db.bench.example"}}')
      } catch {
        failed++
        res.writeHead(401).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/decide`
  return { url, stats: () => ({ asked, failed }), close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

export async function benchHook (engine: string, baseEnv: Record<string, string>, load: Load, headers: Record<string, string>, body: (uuid: string) => unknown, warmupS: number): Promise<Row[]> {
  const rows: Row[] = []
  const hook = await startHook()
  try {
    const results: autocannon.Result[] = []
    const envs: Array<Record<string, string>> = [{}, { MARKETGATE_HOOK_URL: hook.url, MARKETGATE_HOOK_SECRET: secret }]
    for (const env of envs) {
      const gw = await startChild('./gateway.ts', { ...baseEnv, ...env })
      await load(gw.url, '/heroku/resources', headers, () => body(randomUUID()), warmupS)
      results.push(await load(gw.url, '/heroku/resources', headers, () => body(randomUUID())))
      await stopChild(gw)
    }
    const [without, withHook] = results as [autocannon.Result, autocannon.Result]
    const ratio = (withHook.requests.average / without.requests.average).toFixed(2)
    rows.push({ engine, phase: 'heroku provision, no hook', 'req/s': Math.round(without.requests.average), p50_ms: without.latency.p50, p99_ms: without.latency.p99, errors: without.errors + without.non2xx, peak_MiB: '' })
    rows.push({ engine, phase: `heroku provision, hook answers at once (x${ratio} of no hook; asked ${hook.stats().asked}, bad signatures ${hook.stats().failed})`, 'req/s': Math.round(withHook.requests.average), p50_ms: withHook.latency.p50, p99_ms: withHook.latency.p99, errors: withHook.errors + withHook.non2xx, peak_MiB: '' })
  } finally {
    await hook.close()
  }
  return rows
}
