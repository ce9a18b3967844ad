import t, { type Test } from 'tap'
import { adminToken } from '../../helpers/build.js'
import { FakeClock } from '../../helpers/clock.js'
import { createTestDatabase, onPostgres } from '../../helpers/database.js'
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js'
import { startReceiver, type Receiver } from '../webhooks/receiver.js'
import { errorLines, eventually, provisions, startInstance, statementTimeoutMs, type Instance } from './outage.helpers.js'

const skip = onPostgres ? false : 'the embedded engine runs inside the process: it cannot lose its database (run with DATABASE_URL=postgres://…)'
const auth = { authorization: `Bearer ${adminToken}` }

interface Setup { proxy: TcpProxy, clock: FakeClock, receiver: Receiver, eventIds(): Promise<string[]> }

/** A fresh Postgres database behind a proxy the test controls, and a verifying receiver. */
async function setup (t: Test): Promise<Setup & { url: string }> {
  const db = await createTestDatabase()
  t.teardown(() => db.close())
  const target = new URL(db.url!)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  t.teardown(() => proxy.close())
  const clock = new FakeClock()
  const receiver = await startReceiver(t, clock)
  const eventIds = async () => (await db.db.selectFrom('account_events').select('id').execute()).map((r) => r.id)
  return { proxy, clock, receiver, eventIds, url: proxy.urlFor(db.url!) }
}

async function addEndpoint (gateway: Instance, receiver: Receiver): Promise<void> {
  const res = await gateway.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: receiver.url } })
  if (res.statusCode !== 201) throw new Error(`endpoint: ${res.statusCode} ${res.body}`)
  receiver.secrets.push((res.json() as { secret: string }).secret)
}

/** Load across the cut: provisions answer 2xx before it and 503 (never another 5xx) during it. */
async function outage (t: Test, s: Setup, gateway: Instance): Promise<void> {
  let cut: Promise<void> | undefined
  const during = await provisions(gateway.app, 30, 5, (done) => { if (done === 5) cut = s.proxy.cut() })
  await cut
  const statuses = during.map((r) => r.status)
  t.same(statuses.filter((c) => c >= 500 && c !== 503), [], 'no 5xx other than 503 while the database goes away')
  t.same(statuses.filter((c) => !(c === 503 || (c >= 200 && c < 300))), [], 'every answer is a success (before) or a 503')
  const refused = during.filter((r) => r.status === 503)
  t.ok(refused.length >= 20, `most provisions met the outage (${refused.length} of 30)`)
  t.same(JSON.parse(refused[0]!.body), { message: 'the database is unavailable; try again shortly' }, "Heroku's { message } shape")
  t.equal(refused[0]!.retryAfter, '5', 'with Retry-After')

  const api = await gateway.app.inject({ method: 'GET', url: '/v1/accounts', headers: auth })
  t.equal(api.statusCode, 503)
  t.same(api.json(), { error: { code: 'UNAVAILABLE', message: 'the database is unavailable; try again shortly' } })
  t.equal(api.headers['retry-after'], '5')
  const started = Date.now()
  const ready = await gateway.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503, '/readyz 503 while the database is away')
  t.ok(Date.now() - started < 3000, '/readyz answers within a few seconds')
}

/** Waits until the process's webhook worker has met the outage (a claim failed, logged as a warning). */
async function workerNoticed (t: Test, instance: Instance): Promise<void> {
  const seen = () => instance.logs.some((l) => l.includes('claiming webhook deliveries failed; retrying: the database is unavailable'))
  t.ok(await eventually(seen, 10_000), 'the worker met the outage and backs off')
}

/** After the restore: ready again, provisions succeed, and every committed event reaches the receiver. */
async function recovery (t: Test, s: Setup, gateway: Instance): Promise<void> {
  await s.proxy.restore()
  t.ok(await eventually(async () => (await gateway.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 15_000), '/readyz 200 again without a restart')
  const after = await provisions(gateway.app, 5)
  t.same(after.map((r) => r.status), [200, 200, 200, 200, 200], 'new provisions succeed')
  const received = () => new Set(s.receiver.received.map((r) => String(r.headers['webhook-id'])))
  const expected = await s.eventIds()
  const all = () => expected.every((id) => received().has(id))
  if (!(await eventually(all, 15_000))) {
    // A claim whose answer the cut lost stays leased until its lease ends (a minute of the
    // gateway's clock): move that clock on, as time would.
    s.clock.advance(5 * 60_000)
    await eventually(all, 15_000)
  }
  t.same(expected.filter((id) => !received().has(id)), [], `every committed event was delivered (${expected.length} events)`)
  t.equal(s.receiver.received.filter((r) => r.verifiedBy.length === 0).length, 0, 'every delivery verifies')
  const duplicates = s.receiver.received.length - received().size
  t.comment(`deliveries: ${s.receiver.received.length}, distinct events: ${received().size}, sent twice: ${duplicates}`)
  t.ok(duplicates <= 5, 'an event is sent twice only when the cut lost its recording, rarely')
}

t.test('a single instance with workers on: the database going away and coming back', { skip }, async (t) => {
  const s = await setup(t)
  const gateway = await startInstance(t, s.url, s.clock, 'on')
  await addEndpoint(gateway, s.receiver)
  t.ok(s.proxy.accepted > 0, 'the gateway reaches Postgres through the proxy')
  await outage(t, s, gateway)
  await workerNoticed(t, gateway)
  await recovery(t, s, gateway)
  t.same(errorLines(gateway.logs), [], 'the outage is logged as warnings, without an error or a stack')
})

t.test('a gateway with workers off and a separate worker: both ride out the outage', { skip }, async (t) => {
  const s = await setup(t)
  const gateway = await startInstance(t, s.url, s.clock, 'off')
  const worker = await startInstance(t, s.url, s.clock, 'on')
  await addEndpoint(gateway, s.receiver)
  await outage(t, s, gateway)
  await workerNoticed(t, worker)
  await recovery(t, s, gateway)
  t.same([...errorLines(gateway.logs), ...errorLines(worker.logs)], [], 'no error lines in either process')
})

t.test('a frozen database: requests answer 503 within the statement timeout and a margin, then recover', { skip }, async (t) => {
  const s = await setup(t)
  const gateway = await startInstance(t, s.url, s.clock, 'on')
  await addEndpoint(gateway, s.receiver)
  t.same((await provisions(gateway.app, 3)).map((r) => r.status), [200, 200, 200])
  s.proxy.pause()
  const started = Date.now()
  const [api, heroku, ready] = await Promise.all([
    gateway.app.inject({ method: 'GET', url: '/v1/accounts', headers: auth }),
    provisions(gateway.app, 1, 1),
    gateway.app.inject({ method: 'GET', url: '/readyz' })
  ])
  const took = Date.now() - started
  t.equal(api.statusCode, 503)
  t.equal(api.json().error.code, 'UNAVAILABLE')
  t.equal(heroku[0]!.status, 503)
  t.equal(ready.statusCode, 503)
  t.ok(took < statementTimeoutMs + 3000, `answered in ${took} ms (statement timeout ${statementTimeoutMs} ms)`)
  s.proxy.resume()
  t.ok(await eventually(async () => (await gateway.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 15_000), 'ready again once it thaws')
  await recovery(t, s, gateway)
  t.same(errorLines(gateway.logs), [], 'no error lines')
})
