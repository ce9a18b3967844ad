import t from 'tap'
import { build } from '../../helpers/build.js'
import { harness } from './harness.js'
import { status } from './receiver.js'

t.test('endpoints: create with a whsec_ secret, list, get, update, delete; the secret is sealed at rest', async (t) => {
  const { app, auth, services } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'https://vendor.test/hooks', events: ['account.provisioned'], description: 'billing' } })
  t.equal(res.statusCode, 201)
  const created = res.json()
  t.match(created, { url: 'https://vendor.test/hooks', events: ['account.provisioned'], description: 'billing', enabled: true })
  t.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  const row = await services.db.selectFrom('webhook_endpoints').selectAll().executeTakeFirstOrThrow()
  t.notMatch(row.secret_encrypted, created.secret.slice(6))
  t.equal(services.secrets.open(row.secret_encrypted), created.secret)

  const got = (await app.inject({ method: 'GET', url: `/v1/webhook-endpoints/${created.id}`, headers: auth })).json()
  t.equal(got.secret, undefined, 'GET never shows the secret')
  t.equal(got.url, created.url)
  const patched = await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${created.id}`, headers: auth, payload: { events: null, enabled: false } })
  t.match(patched.json(), { events: null, enabled: false, disabled_reason: 'by request' })
  const enabled = await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${created.id}`, headers: auth, payload: { enabled: true } })
  t.match(enabled.json(), { enabled: true, disabled_reason: null, disabled_at: null })
  await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'http://second.test/' } })
  const list = (await app.inject({ method: 'GET', url: '/v1/webhook-endpoints?limit=1', headers: auth })).json()
  t.equal(list.data.length, 1)
  const next = (await app.inject({ method: 'GET', url: `/v1/webhook-endpoints?limit=1&cursor=${list.next_cursor}`, headers: auth })).json()
  t.equal(next.data[0].url, 'http://second.test/')
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/webhook-endpoints/${created.id}`, headers: auth })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: `/v1/webhook-endpoints/${created.id}`, headers: auth })).statusCode, 404)
})

t.test('bad endpoint input is a 400 in the error shape; unknown ids are 404; no token is 401', async (t) => {
  const { app, auth } = await build(t)
  for (const payload of [{}, { url: 'ftp://x' }, { url: 'https://x.test', events: ['account.nope'] }, { url: 'https://x.test', events: [] }, { url: 'https://x.test', colour: 'blue' }]) {
    const res = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.equal(res.json().error.code, 'VALIDATION_FAILED')
  }
  for (const url of ['/v1/webhook-endpoints/nope', '/v1/webhook-endpoints/00000000-0000-7000-8000-000000000000/deliveries']) {
    t.equal((await app.inject({ method: 'GET', url, headers: auth })).json().error.code, 'NOT_FOUND')
  }
  t.equal((await app.inject({ method: 'GET', url: '/v1/webhook-endpoints' })).statusCode, 401)
})

t.test('rotation: both secrets sign for 24 h (two signatures, each verifiable), then only the new one', async (t) => {
  const h = await harness(t)
  const rotated = await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/rotate-secret`, headers: h.auth })
  t.equal(rotated.statusCode, 200)
  const { secret, previous_secret_expires_at: expires } = rotated.json()
  t.not(secret, h.endpoint.secret)
  t.equal(expires, new Date(h.clock.now().getTime() + 24 * 3600_000).toISOString())
  h.receiver.secrets.push(secret)
  await h.provision()
  await h.worker.runOnce()
  const first = h.receiver.received[0]!
  t.equal(String(first.headers['webhook-signature']).split(' ').length, 2)
  t.same(first.verifiedBy.sort(), [h.endpoint.secret, secret].sort(), 'each secret alone verifies it')

  h.clock.advance(24 * 3600_000)
  await h.provision()
  await h.worker.runOnce()
  const later = h.receiver.received[1]!
  t.equal(String(later.headers['webhook-signature']).split(' ').length, 1)
  t.same(later.verifiedBy, [secret])
  t.match(later.errors, ['No matching signature found'])
})

t.test('a test send queues webhook.test to that endpoint only', async (t) => {
  const h = await harness(t)
  const other = (await h.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: h.auth, payload: { url: 'http://127.0.0.1:9/other' } })).json()
  const res = await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/test`, headers: h.auth })
  t.equal(res.statusCode, 202)
  t.equal((await h.services.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', other.id).execute()).length, 0)
  await h.worker.runOnce()
  const body = JSON.parse(h.receiver.received[0]!.body)
  t.match(body, { type: 'webhook.test', data: { event_id: res.json().event_id, endpoint_id: h.endpoint.id } })
  t.equal(body.data.account, undefined)
  t.same(h.receiver.received[0]!.verifiedBy, [h.endpoint.secret])
  await h.app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: h.auth, payload: { enabled: false } })
  t.equal((await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/test`, headers: h.auth })).json().error.code, 'CONFLICT')
})

t.test('replay sends one event again with the same webhook-id; recover requeues failed and dead since a time', async (t) => {
  const h = await harness(t, status(500))
  const e1 = await h.provision('a')
  await h.worker.runOnce()
  h.clock.advance(60_000)
  const since = h.clock.now().toISOString()
  await h.provision('b')
  await h.provision('c')
  await h.worker.runOnce()
  h.receiver.respond = status(200)

  const replay = await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/replay`, headers: h.auth, payload: { event_id: e1 } })
  t.equal(replay.statusCode, 202)
  const recover = await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/recover`, headers: h.auth, payload: { since } })
  t.match(recover.json(), { recovered: 2, revived: 2, created: 0 })
  const before = h.receiver.received.length
  t.equal(await h.worker.runOnce(), 3, 'the replay and the two recovered, now; a is still waiting for its retry')
  const ids = h.receiver.received.slice(before).map((r) => r.headers['webhook-id'])
  t.ok(ids.includes(e1))
  const statuses = (await h.deliveries()).map((d) => d.status)
  t.same(statuses, ['retrying', 'succeeded', 'succeeded', 'succeeded'])
  const bad = await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/replay`, headers: h.auth, payload: { event_id: '00000000-0000-7000-8000-000000000000' } })
  t.equal(bad.statusCode, 404)
})

t.test('deliveries list with their attempts, cursor paging and a status filter', async (t) => {
  const h = await harness(t, (_r, n, res) => { res.statusCode = n === 1 ? 500 : 200; res.end(n === 1 ? 'down' : 'ok') })
  await h.provision('a')
  await h.provision('b')
  await h.provision('c')
  await h.worker.runOnce()
  const url = `/v1/webhook-endpoints/${h.endpoint.id}/deliveries`
  const p1 = (await h.app.inject({ method: 'GET', url: `${url}?limit=2`, headers: h.auth })).json()
  t.equal(p1.data.length, 2)
  const p2 = (await h.app.inject({ method: 'GET', url: `${url}?limit=2&cursor=${p1.next_cursor}`, headers: h.auth })).json()
  t.equal(p2.data.length, 1)
  t.equal(p2.next_cursor, null)
  const all = [...p1.data, ...p2.data]
  t.equal(new Set(all.map((d: { id: string }) => d.id)).size, 3)
  const retrying = (await h.app.inject({ method: 'GET', url: `${url}?status=retrying`, headers: h.auth })).json()
  t.equal(retrying.data.length, 1)
  t.match(retrying.data[0], {
    event_type: 'account.provisioned', status: 'retrying', attempt_count: 1, last_status_code: 500,
    next_attempt_at: new Date(h.clock.now().getTime() + 5000).toISOString(),
    attempts: [{ attempt: 1, status_code: 500, response_excerpt: 'down', error: 'HTTP 500', outcome: 'failed' }]
  })
  const succeeded = (await h.app.inject({ method: 'GET', url: `${url}?status=succeeded`, headers: h.auth })).json()
  t.equal(succeeded.data.length, 2)
  t.equal(succeeded.data[0].next_attempt_at, null)
  t.equal((await h.app.inject({ method: 'GET', url: `${url}?status=bogus`, headers: h.auth })).statusCode, 400)
})

t.test('metrics: deliveries by outcome, attempt latency, age of the oldest due delivery', async (t) => {
  const h = await harness(t, status(500))
  await h.provision()
  h.clock.advance(90_000)
  const before = (await h.app.inject('/metrics')).body
  t.match(before, /marketgate_webhook_oldest_due_seconds 90/)
  await h.worker.runOnce()
  const after = (await h.app.inject('/metrics')).body
  t.match(after, /marketgate_webhook_deliveries_total\{outcome="retrying"\} 1/)
  t.match(after, /marketgate_webhook_attempt_duration_seconds_count\{outcome="failed"\} 1/)
  t.match(after, /marketgate_webhook_oldest_due_seconds 0/)
})

t.test('webhook secrets never reach the logs', async (t) => {
  const h = await harness(t, status(500))
  await h.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/rotate-secret`, headers: h.auth })
  await h.provision()
  await h.worker.runOnce()
  t.notMatch(h.logs.join(''), h.endpoint.secret.slice(6))
})
