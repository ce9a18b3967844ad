// `npm run bench:cpu` (Linux, Postgres): where a request's CPU goes. For the floor and for
// Heroku provisioning, the CPU milliseconds per request spent by the server process, by every
// Postgres process, and by the load generator (this process), read from /proc before and
// after the same load. Throughput on a shared machine follows the sum; the split says which
// side to make cheaper. Interleaved rounds (BENCH_ROUNDS, default 2) show the machine's noise.
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { freshPostgres, postgresReachable, startChild, stopChild } from './procs.js'

const seconds = Number(process.env.BENCH_DURATION ?? 8)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
const ticks = 100 // USER_HZ on Linux
const basic = `Basic ${Buffer.from('bench-addon:bench-password-0123456789').toString('base64')}`

function cpuSeconds (pid: number | string): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / ticks
  } catch { return 0 } // the process ended between listing and reading
}
function postgresSeconds (): number {
  let total = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try { if (readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) total += cpuSeconds(pid) } catch { /* gone */ }
  }
  return total
}
const selfSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

function load (url: string, path: string, duration: number) {
  return autocannon({
    url, connections: 32, duration,
    requests: [{
      method: 'POST', path, headers: { authorization: basic, 'content-type': 'application/json' },
      setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify({ uuid: randomUUID(), plan: 'basic', region: 'amazon-web-services::us-east-1', name: 'bench', callback_url: 'https://api.heroku.com/addons/x', options: {} }) })
    }]
  })
}

async function measure (which: 'floor' | 'gateway') {
  const db = await freshPostgres()
  const server = await startChild(`./${which}.ts`, {
    DATABASE_URL: db.url, DATABASE_POOL_SIZE: '20', MARKETGATE_WORKERS: 'off',
    MARKETGATE_SECRET_KEY: 'bench-secret-key-0123456789-0123456789-abcdef', MARKETGATE_ADMIN_TOKEN: 'bench-admin-token-0123456789',
    HEROKU_ADDON_ID: 'bench-addon', HEROKU_ADDON_PASSWORD: 'bench-password-0123456789', HEROKU_SSO_SALT: 'bench-sso-salt-0123456789'
  })
  try {
    const path = which === 'floor' ? '/floor' : '/heroku/resources'
    await load(server.url, path, 2) // warm-up
    const before = { server: cpuSeconds(server.child.pid!), postgres: postgresSeconds(), load: selfSeconds() }
    const r = await load(server.url, path, seconds)
    const per = (after: number, start: number) => Number(((after - start) * 1000 / r.requests.total).toFixed(3))
    return {
      phase: which, 'req/s': Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99,
      server_ms: per(cpuSeconds(server.child.pid!), before.server), postgres_ms: per(postgresSeconds(), before.postgres), load_ms: per(selfSeconds(), before.load)
    }
  } finally {
    await stopChild(server)
    await db.drop()
  }
}

if (!(await postgresReachable())) throw new Error('bench:cpu needs Postgres (BENCH_POSTGRES_URL)')
const rows = []
for (let i = 0; i < rounds; i++) rows.push(await measure('floor'), await measure('gateway'))
console.table(rows)
