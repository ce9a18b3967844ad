// `npm run bench`: measures the gateway against a floor in the same run, on the embedded
// engine and (when reachable) on Postgres, and writes bench/results.json.
// Every request goes over loopback; every loop is bounded in count and time.
import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import os from 'node:os'
import autocannon from 'autocannon'
import { Agent, request } from 'undici'
import { Webhook } from 'standardwebhooks'
import { AwsFake } from '../test/fakes/aws-fake.js'
import { benchHook } from './hook.js'
import { freshPostgres, postgresReachable, startChild, stopChild, type Proc } from './procs.js'

const durationS = Number(process.env.BENCH_DURATION ?? 10)
const cases = (process.env.BENCH_CASES ?? 'core,hook').split(',')
const connections = 32
const warmupS = 2
const addonId = 'bench-addon'
const password = 'bench-password-0123456789'
const adminToken = 'bench-admin-token-0123456789'
const basic = `Basic ${Buffer.from(`${addonId}:${password}`).toString('base64')}`
const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }
const agent = new Agent({ connections: 256 })

/** Peak resident memory of a process since the last reset (Linux VmHWM; reset via clear_refs). */
function resetPeak (p: Proc): void { try { writeFileSync(`/proc/${p.child.pid}/clear_refs`, '5') } catch { /* not Linux */ } }
function peakMiB (p: Proc): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 1024) : NaN
  } catch { return NaN }
}

async function call (method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: unknown) {
  const res = await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: agent })
  const text = await res.body.text()
  return { status: res.statusCode, text, json: () => JSON.parse(text) }
}

function load (url: string, path: string, headers: Record<string, string>, body: () => unknown, seconds = durationS, conns = connections) {
  return new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({
      url, connections: conns, duration: seconds,
      requests: [{ method: 'POST', path, headers, setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify(body()) }) }]
    }, (err: Error | null, result: autocannon.Result) => err ? reject(err) : resolve(result))
  })
}

function provisionBody (uuid: string) {
  return { uuid, plan: 'basic', region: 'amazon-web-services::us-east-1', name: `bench-${uuid.slice(0, 8)}`, callback_url: `https://api.heroku.com/addons/${uuid}`, options: {} }
}

const percentile = (sorted: number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : NaN

/** A webhook receiver that verifies every request with standardwebhooks, as a vendor would. */
async function startReceiver () {
  const state = { secret: '', received: 0, failed: 0, latencies: [] as number[], ids: new Set<string>() }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      try {
        new Webhook(state.secret).verify(body, req.headers as Record<string, string>)
        const parsed = JSON.parse(body) as { timestamp: string }
        state.latencies.push(Date.now() - Date.parse(parsed.timestamp))
        state.ids.add(String(req.headers['webhook-id']))
        state.received++
        res.writeHead(204).end()
      } catch {
        state.failed++
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { state, server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook` }
}

async function waitUntil (check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

type Row = Record<string, string | number>

async function benchEngine (engine: 'pglite' | 'postgres', fake: AwsFake): Promise<Row[]> {
  const rows: Row[] = []
  const db = engine === 'postgres' ? await freshPostgres() : undefined
  const floorDb = engine === 'postgres' ? await freshPostgres() : undefined
  const baseEnv: Record<string, string> = {
    DATABASE_URL: db?.url ?? 'pglite://memory',
    MARKETGATE_SECRET_KEY: 'bench-secret-key-0123456789-0123456789-abcdef',
    MARKETGATE_ADMIN_TOKEN: adminToken,
    MARKETGATE_WORKERS: 'off',
    MARKETGATE_BODY_LIMIT: String(2 * 1024 * 1024),
    DATABASE_POOL_SIZE: '20',
    HEROKU_ADDON_ID: addonId,
    HEROKU_ADDON_PASSWORD: password,
    HEROKU_SSO_SALT: 'bench-sso-salt-0123456789',
    AWS_MARKETPLACE_PRODUCT_CODE: 'prod-bench',
    AWS_ENDPOINT_URL: fake.url,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench'
  }
  try {
    // BENCH_CASES=hook runs only the hook case; by default every case runs.
    if (cases.includes('hook')) rows.push(...await benchHook(engine, baseEnv, load, { authorization: basic, 'content-type': 'application/json' }, provisionBody, warmupS))
    if (!cases.includes('core')) return rows
    // 1. The floor: one INSERT behind a bare route.
    const floor = await startChild('./floor.ts', { ...baseEnv, DATABASE_URL: floorDb?.url ?? 'pglite://memory' })
    // Each side gets the same short warm-up first (JIT, lazily loaded modules, pool connections).
    await load(floor.url, '/floor', { 'content-type': 'application/json' }, () => ({ uuid: randomUUID(), plan: 'basic' }), warmupS)
    resetPeak(floor)
    const f = await load(floor.url, '/floor', { 'content-type': 'application/json' }, () => ({ uuid: randomUUID(), plan: 'basic' }))
    rows.push({ engine, phase: 'floor: bare INSERT route', 'req/s': Math.round(f.requests.average), p50_ms: f.latency.p50, p99_ms: f.latency.p99, errors: f.errors + f.non2xx, peak_MiB: peakMiB(floor) })
    await stopChild(floor)

    // 2. Heroku provisioning, fresh uuids, 32 connections.
    const gw = await startChild('./gateway.ts', baseEnv)
    await load(gw.url, '/heroku/resources', { authorization: basic, 'content-type': 'application/json' }, () => provisionBody(randomUUID()), warmupS)
    resetPeak(gw)
    const p = await load(gw.url, '/heroku/resources', { authorization: basic, 'content-type': 'application/json' }, () => provisionBody(randomUUID()))
    const ratio = (p.requests.average / f.requests.average).toFixed(2)
    rows.push({ engine, phase: `heroku provision (x${ratio} of floor)`, 'req/s': Math.round(p.requests.average), p50_ms: p.latency.p50, p99_ms: p.latency.p99, errors: p.errors + p.non2xx, peak_MiB: peakMiB(gw) })

    // 3. A duplicate storm: 1000 concurrent requests over 50 uuids.
    resetPeak(gw)
    const uuids = Array.from({ length: 50 }, () => randomUUID())
    const started = Date.now()
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
      call('POST', `${gw.url}/heroku/resources`, { authorization: basic, 'content-type': 'application/json' }, provisionBody(uuids[i % 50]!))))
    const stormMs = Date.now() - started
    const byUuid = new Map<string, Set<string>>()
    for (const [i, a] of answers.entries()) {
      const set = byUuid.get(uuids[i % 50]!) ?? new Set()
      set.add(`${a.status} ${a.text}`)
      byUuid.set(uuids[i % 50]!, set)
    }
    const identical = [...byUuid.values()].every((s) => s.size === 1)
    let accounts = 0
    for (const u of uuids) accounts += (await call('GET', `${gw.url}/v1/accounts?external_id=${u}`, admin)).json().data.length
    rows.push({ engine, phase: `duplicate storm: identical=${identical}, accounts=${accounts}/50`, 'req/s': Math.round(1000 / (stormMs / 1000)), p50_ms: '', p99_ms: '', errors: answers.filter((a) => a.status !== 200).length, peak_MiB: peakMiB(gw) })

    // 4. Webhook delivery: a backlog drained by 1 then 2 workers; then latency under live load.
    const receiver = await startReceiver()
    const ep = (await call('POST', `${gw.url}/v1/webhook-endpoints`, admin, { url: receiver.url, events: ['account.provisioned'] })).json()
    receiver.state.secret = ep.secret
    const provisionMany = async (n: number) => {
      for (let i = 0; i < n; i += 100) {
        await Promise.all(Array.from({ length: Math.min(100, n - i) }, () =>
          call('POST', `${gw.url}/heroku/resources`, { authorization: basic, 'content-type': 'application/json' }, provisionBody(randomUUID()))))
      }
    }
    for (const workers of [1, 2]) {
      const backlog = 2000
      await provisionMany(backlog) // no worker runs yet: these wait in the outbox
      receiver.state.received = 0
      resetPeak(gw)
      const t0 = Date.now()
      await call('POST', `${gw.url}/bench/workers`, admin, { n: workers })
      await waitUntil(() => receiver.state.received >= backlog, 120_000)
      const ms = Date.now() - t0
      rows.push({ engine, phase: `webhooks: drain 2000, ${workers} worker(s)`, 'req/s': Math.round(receiver.state.received / (ms / 1000)), p50_ms: '', p99_ms: '', errors: receiver.state.failed, peak_MiB: peakMiB(gw) })
      // Live: events made while the workers run; latency from the event's time to its receipt.
      receiver.state.latencies = []
      resetPeak(gw)
      const live = await load(gw.url, '/heroku/resources', { authorization: basic, 'content-type': 'application/json' }, () => provisionBody(randomUUID()), 5, 4)
      const expected = live.requests.total
      await waitUntil(() => receiver.state.latencies.length >= expected, 30_000)
      const lat = [...receiver.state.latencies].sort((a, b) => a - b)
      rows.push({ engine, phase: `webhooks: event-to-receipt, ${workers} worker(s), live`, 'req/s': Math.round(lat.length / 5), p50_ms: percentile(lat, 0.5), p99_ms: percentile(lat, 0.99), errors: receiver.state.failed, peak_MiB: peakMiB(gw) })
      await call('POST', `${gw.url}/bench/workers`, admin, { n: 0 })
    }
    receiver.server.close()

    // 5. Usage: 100 000 reports over 1000 subscribers × 10 dimensions in one closed hour, then the flush.
    const seeded = (await call('POST', `${gw.url}/bench/seed-aws`, admin, { n: 1000 })).json().ids as string[]
    const hourAgo = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 - 1800_000).toISOString()
    resetPeak(gw)
    const u0 = Date.now()
    for (let b = 0; b < 100; b++) {
      const records = Array.from({ length: 1000 }, (_, i) => ({ account_id: seeded[(b * 1000 + i) % 1000]!, dimension: `dim${(b + Math.floor(i / 1000)) % 10}`, quantity: 1, timestamp: hourAgo }))
      const r = await call('POST', `${gw.url}/v1/usage`, admin, { records })
      if (r.status !== 202) throw new Error(`usage batch ${b}: ${r.status} ${r.text}`)
    }
    const ingestMs = Date.now() - u0
    rows.push({ engine, phase: 'usage ingest: 100k reports in batches of 1000', 'req/s': Math.round(100_000 / (ingestMs / 1000)), p50_ms: '', p99_ms: '', errors: 0, peak_MiB: peakMiB(gw) })
    resetPeak(gw)
    const callsBefore = fake.calls('AWSMPMeteringService.BatchMeterUsage').length
    const m0 = Date.now()
    const flush = (await call('POST', `${gw.url}/bench/meter`, admin, {})).json()
    const flushMs = Date.now() - m0
    const hoursRows = 1000 * 10
    const made = fake.calls('AWSMPMeteringService.BatchMeterUsage').length - callsBefore
    rows.push({ engine, phase: `metering flush: ${flush.sent} records, ${made} AWS calls (fewest ${Math.ceil(hoursRows / 25)})`, 'req/s': Math.round(flush.sent / (flushMs / 1000)), p50_ms: '', p99_ms: '', errors: flush.rejected + flush.expired, peak_MiB: peakMiB(gw) })
    await stopChild(gw)
  } finally {
    await db?.drop()
    await floorDb?.drop()
  }
  return rows
}

const fake = await new AwsFake().start()
// BENCH_ENGINES=pglite or =postgres runs one engine; by default both (Postgres when reachable).
const wanted = (process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',')
const engines: Array<'pglite' | 'postgres'> = []
if (wanted.includes('pglite')) engines.push('pglite')
if (wanted.includes('postgres') && await postgresReachable()) engines.push('postgres')
const all: Row[] = []
for (const engine of engines) all.push(...await benchEngine(engine, fake))
await fake.stop()
await agent.close()

console.table(all)
const machine = {
  cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_GiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`,
  node: process.version, date: new Date().toISOString(), duration_s: durationS, connections
}
// A partial run (BENCH_CASES) prints its table but leaves the full results in place.
if (cases.includes('core')) {
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ machine, results: all }, null, 2)}\n`)
  console.log('wrote bench/results.json')
}
