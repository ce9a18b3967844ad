import t from 'tap'
import { harness } from './harness.js'

// An endpoint may take the events of some products only; the gateway's own events reach it regardless.
t.test('an endpoint with a products filter gets only those products\' events, fresh and recovered', async (t) => {
  const h = await harness(t)
  const { app, auth, services } = h
  const created = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: h.receiver.url, products: ['acme-log'] } })
  t.equal(created.statusCode, 201)
  const onlyLog = created.json() as { id: string, products: string[] | null, secret: string }
  t.same(onlyLog.products, ['acme-log'])
  h.receiver.secrets.push(onlyLog.secret)
  const everything = await app.inject({ method: 'GET', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth })
  t.equal(everything.json().products, null, 'no filter: every product')

  const provision = (product: string, externalId: string) => services.lifecycle.execute(
    { key: { product, marketplace: 'heroku', externalId } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  await provision('acme-db', 'res-db-1')
  await provision('acme-log', 'res-log-1')
  const rows = await services.db.selectFrom('webhook_deliveries').select(['endpoint_id']).execute()
  t.equal(rows.filter((r) => r.endpoint_id === onlyLog.id).length, 1, 'one delivery for the filtered endpoint: acme-log\'s')
  t.equal(rows.filter((r) => r.endpoint_id === h.endpoint.id).length, 2, 'both for the unfiltered one')

  // Recover fills gaps by the same filter.
  await services.db.deleteFrom('webhook_deliveries').execute()
  const recovered = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${onlyLog.id}/recover`, headers: auth, payload: { since: '2026-01-01T00:00:00Z' } })
  t.match(recovered.json(), { created: 1 })

  const test = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${onlyLog.id}/test`, headers: auth })
  t.equal(test.statusCode, 202, 'the gateway\'s own test event reaches a filtered endpoint')

  const bad = await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${onlyLog.id}`, headers: auth, payload: { products: ['Not A Product'] } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().error.message, /products/)
  const widened = await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${onlyLog.id}`, headers: auth, payload: { products: null } })
  t.equal(widened.json().products, null)
})
