import t from 'tap'
import { recoverDeliveries } from '../../../src/webhooks/delivery.recover.js'
import { uuidv7Floor } from '../../../src/random.js'
import { harness } from './harness.js'

t.test('recover delivers every event of a disabled period, once, in bounded batches', async (t) => {
  const h = await harness(t, undefined, ['account.provisioned', 'account.cancelled'])
  const { app, auth, clock, services } = h
  const before = await h.provision('before')
  await h.worker.runOnce()
  clock.advance(60_000)
  const since = clock.now()
  await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth, payload: { enabled: false } })
  const missed: string[] = []
  for (let i = 0; i < 5; i++) {
    clock.advance(1000)
    missed.push(await h.provision(`during-${i}`))
  }
  // Not in the filter: a plan change stays undelivered.
  await services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'during-0' } }, { type: 'changePlan', plan: 'pro' })
  t.equal((await h.deliveries()).length, 1, 'a disabled endpoint gets no deliveries')
  clock.advance(1000)
  await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth, payload: { enabled: true } })

  // Batches of 2 walk all five; two recovers at once create each delivery once.
  const [a, b] = await Promise.all([
    recoverDeliveries(services.db, h.endpoint.id, since, clock.now(), { batchSize: 2 }),
    recoverDeliveries(services.db, h.endpoint.id, since, clock.now(), { batchSize: 2 })
  ])
  t.equal(a!.created + b!.created, 5, 'five created between them')
  t.equal(a!.revived + b!.revived, 0)
  const again = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/recover`, headers: auth, payload: { since: since.toISOString() } })
  t.same(again.json(), { recovered: 0, revived: 0, created: 0, in_flight: 0 }, 'a second recover finds nothing to do')

  const sent = h.receiver.received.length
  t.equal(await h.worker.runOnce(), 5)
  const ids = h.receiver.received.slice(sent).map((r) => r.headers['webhook-id'])
  t.same(ids.sort(), [...missed].sort(), 'every missed event, with its own webhook-id')
  t.ok(h.receiver.received.slice(sent).every((r) => r.verifiedBy.length === 1), 'signed')
  t.notOk(ids.includes(before), 'the event before the period was already delivered')
  t.same((await h.deliveries()).map((d) => d.status), Array(6).fill('succeeded'))
})

t.test('recover does not send events from before the endpoint existed, nor another endpoint\'s test event', async (t) => {
  const h = await harness(t)
  const { app, auth, clock } = h
  const since = new Date(clock.now().getTime() - 3600_000).toISOString()
  const other = (await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'http://127.0.0.1:9/other' } })).json()
  await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${other.id}/test`, headers: auth })
  clock.advance(1000)
  const late = (await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: h.receiver.url } })).json()
  const res = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${late.id}/recover`, headers: auth, payload: { since } })
  t.same(res.json(), { recovered: 0, revived: 0, created: 0, in_flight: 0 })
})

t.test('recover of a disabled endpoint is refused: enable it first', async (t) => {
  const h = await harness(t)
  await h.app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: h.auth, payload: { enabled: false } })
  const res = await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/recover`, headers: h.auth, payload: { since: h.clock.now().toISOString() } })
  t.equal(res.statusCode, 409)
})

t.test('uuidv7Floor is the smallest id of its millisecond', async (t) => {
  t.equal(uuidv7Floor(new Date(0x0123456789ab)), '01234567-89ab-0000-0000-000000000000')
  t.equal(uuidv7Floor(new Date(0)), '00000000-0000-0000-0000-000000000000')
})

t.test('recover does not reach back past the retention: an old event without a delivery was likely delivered and pruned', async (t) => {
  const h = await harness(t)
  const { app, auth, clock, services } = h
  const day = 86_400_000
  await h.provision('old')
  await h.worker.runOnce()
  await services.db.deleteFrom('webhook_deliveries').execute() // what retention does after 30 days
  clock.advance(40 * day)
  const recent = await h.provision('recent')
  await services.db.deleteFrom('webhook_deliveries').where('event_id', '=', recent).execute() // missed while disabled, say
  const r = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/recover`, headers: auth, payload: { since: new Date(clock.now().getTime() - 60 * day).toISOString() } })
  t.match(r.json(), { created: 1 }, 'only the event within MARKETGATE_RETENTION_DAYS (30)')
  const rows = await services.db.selectFrom('webhook_deliveries').select('event_id').execute()
  t.same(rows.map((d) => d.event_id), [recent])
})
