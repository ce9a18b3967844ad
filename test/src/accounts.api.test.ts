import t from 'tap'
import { adminToken, build } from '../helpers/build.js'

async function seed (services: Awaited<ReturnType<typeof build>>['services'], n: number) {
  for (let i = 0; i < n; i++) {
    await services.lifecycle.execute({ key: { product: 'default', marketplace: i % 2 ? 'aws' : 'heroku', externalId: `ext-${i}` } },
      { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  }
}

t.test('/v1 refuses calls without the right bearer token, in the error shape', async (t) => {
  const { app } = await build(t)
  for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Basic ${adminToken}` }]) {
    const res = await app.inject({ method: 'GET', url: '/v1/accounts', headers })
    t.equal(res.statusCode, 401)
    t.equal(res.json().error.code, 'UNAUTHORIZED')
  }
})

t.test('/v1 is closed when no admin token is configured', async (t) => {
  const { app } = await build(t, { MARKETGATE_ADMIN_TOKEN: '' })
  const res = await app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${adminToken}` } })
  t.equal(res.statusCode, 401)
  t.match(res.json().error.message, /MARKETGATE_ADMIN_TOKEN/)
})

t.test('accounts are listed oldest first with cursor paging and filters', async (t) => {
  const { app, services, auth } = await build(t)
  await seed(services, 5)
  const first = await app.inject({ method: 'GET', url: '/v1/accounts?limit=2', headers: auth })
  t.equal(first.statusCode, 200)
  const page1 = first.json()
  t.same(page1.data.map((a: { external_id: string }) => a.external_id), ['ext-0', 'ext-1'])
  t.type(page1.next_cursor, 'string')
  const page2 = (await app.inject({ method: 'GET', url: `/v1/accounts?limit=2&cursor=${page1.next_cursor}`, headers: auth })).json()
  t.same(page2.data.map((a: { external_id: string }) => a.external_id), ['ext-2', 'ext-3'])
  const page3 = (await app.inject({ method: 'GET', url: `/v1/accounts?limit=2&cursor=${page2.next_cursor}`, headers: auth })).json()
  t.same(page3.data.map((a: { external_id: string }) => a.external_id), ['ext-4'])
  t.equal(page3.next_cursor, null)

  const aws = (await app.inject({ method: 'GET', url: '/v1/accounts?marketplace=aws', headers: auth })).json()
  t.same(aws.data.map((a: { external_id: string }) => a.external_id), ['ext-1', 'ext-3'])
  const one = (await app.inject({ method: 'GET', url: '/v1/accounts?external_id=ext-2', headers: auth })).json()
  t.equal(one.data.length, 1)
  const active = (await app.inject({ method: 'GET', url: '/v1/accounts?status=active&limit=200', headers: auth })).json()
  t.equal(active.data.length, 5)
})

t.test('bad filters and cursors are 400s in the error shape', async (t) => {
  const { app, auth } = await build(t)
  for (const q of ['status=bogus', 'marketplace=gcp', 'limit=0', 'limit=9999', 'cursor=not-a-cursor', 'colour=blue']) {
    const res = await app.inject({ method: 'GET', url: `/v1/accounts?${q}`, headers: auth })
    t.equal(res.statusCode, 400, q)
    t.equal(res.json().error.code, 'VALIDATION_FAILED', q)
  }
})

t.test('one account and its events; unknown ids are 404', async (t) => {
  const { app, services, auth } = await build(t)
  await seed(services, 1)
  const list = (await app.inject({ method: 'GET', url: '/v1/accounts', headers: auth })).json()
  const id = list.data[0].id
  const res = await app.inject({ method: 'GET', url: `/v1/accounts/${id}`, headers: auth })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id, product: 'default', marketplace: 'heroku', external_id: 'ext-0', plan: 'basic', status: 'active' })
  const events = (await app.inject({ method: 'GET', url: `/v1/accounts/${id}/events`, headers: auth })).json()
  t.same(events.data.map((e: { type: string }) => e.type), ['account.provisioned'])
  for (const bad of ['00000000-0000-7000-8000-000000000000', 'nope']) {
    const r = await app.inject({ method: 'GET', url: `/v1/accounts/${bad}`, headers: auth })
    t.equal(r.statusCode, 404)
    t.equal(r.json().error.code, 'NOT_FOUND')
  }
})

t.test('operations routes: health, readiness, metrics, openapi, unknown routes', async (t) => {
  const { app, auth } = await build(t)
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  t.same((await app.inject('/readyz')).json(), { status: 'ready' })
  await app.inject({ method: 'GET', url: '/v1/accounts', headers: auth })
  const metrics = await app.inject('/metrics')
  t.match(metrics.body, /marketgate_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/accounts"/)
  const doc = (await app.inject('/openapi.json')).json()
  t.equal(doc.openapi, '3.0.3')
  t.ok(doc.paths['/v1/accounts'])
  t.ok(doc.paths['/v1/accounts/{id}/events'])
  const missing = await app.inject('/nowhere')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error.code, 'ROUTE_NOT_FOUND')
})

t.test('malformed JSON and oversized bodies get 4xx in the error shape', async (t) => {
  const { app } = await build(t, { MARKETGATE_BODY_LIMIT: '2048' })
  app.post('/echo', async (req) => req.body)
  await app.ready()
  const bad = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'VALIDATION_FAILED')
  const big = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ a: 'x'.repeat(4096) }) })
  t.equal(big.statusCode, 413)
  t.equal(big.json().error.code, 'PAYLOAD_TOO_LARGE')
  const type = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-nope' }, payload: 'x' })
  t.equal(type.statusCode, 415)
})

t.test('the admin token never reaches the logs', async (t) => {
  const { app, auth, logs } = await build(t)
  await app.inject({ method: 'GET', url: '/v1/accounts?token=abc', headers: auth })
  t.notMatch(logs.join(''), adminToken)
  t.notMatch(logs.join(''), 'token=abc')
})
