import t from 'tap'
import { build } from '../helpers/build.js'
import { addEndpoint, herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../helpers/heroku.js'
import { claimDue } from '../../src/webhooks/delivery.claim.js'
import { webhookBody } from '../../src/webhooks/webhook.body.js'

const awsEnv = { AWS_MARKETPLACE_PRODUCT_CODE: 'prod-abc123' }

t.test('GET /v1/products lists the environment\'s product, its name and its marketplaces, and no secret', async (t) => {
  const { app, auth } = await build(t, { ...herokuEnv, HEROKU_ADDON_NAME: 'Acme DB', ...awsEnv, MARKETGATE_PRODUCT_ID: 'acme-db' })
  const res = await app.inject({ method: 'GET', url: '/v1/products', headers: auth })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { data: [{ id: 'acme-db', name: 'Acme DB', marketplaces: ['aws', 'heroku'] }], next_cursor: null })
  t.notMatch(res.body, herokuEnv.HEROKU_ADDON_PASSWORD)
  t.notMatch(res.body, herokuEnv.HEROKU_SSO_SALT)
  t.equal((await app.inject({ method: 'GET', url: '/v1/products' })).statusCode, 401, 'behind the admin token')
  t.ok((await app.inject('/openapi.json')).json().paths['/v1/products'])
})

t.test('without Heroku the product is named by its id; without marketplaces it lists none', async (t) => {
  const aws = await build(t, awsEnv)
  t.same((await aws.app.inject({ method: 'GET', url: '/v1/products', headers: aws.auth })).json().data, [{ id: 'default', name: 'default', marketplaces: ['aws'] }])
  const bare = await build(t, { MARKETGATE_PRODUCT_ID: 'solo' })
  t.same((await bare.app.inject({ method: 'GET', url: '/v1/products', headers: bare.auth })).json().data, [{ id: 'solo', name: 'solo', marketplaces: [] }])
})

t.test('a Heroku provision belongs to the configured product: in the row, the account JSON and the webhook body', async (t) => {
  const { app, services, auth, clock } = await build(t, { ...herokuEnv, MARKETGATE_PRODUCT_ID: 'acme-db' })
  await addEndpoint(services)
  t.equal((await app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body() })).statusCode, 200)
  const [row] = await services.db.selectFrom('accounts').select(['id', 'product']).execute()
  t.equal(row!.product, 'acme-db')
  const one = (await app.inject({ method: 'GET', url: `/v1/accounts/${row!.id}`, headers: auth })).json()
  t.match(one, { id: row!.id, product: 'acme-db', marketplace: 'heroku', external_id: resourceUuid })
  // The body a worker would send, built from the event's stored snapshot.
  const [claimed] = await claimDue(services.db, 'test', clock.now(), { limit: 10, leaseMs: 60_000 })
  const body = JSON.parse(webhookBody(claimed!.context.source))
  t.match(body, { type: 'account.provisioned', data: { account: { id: row!.id, product: 'acme-db', marketplace: 'heroku', external_id: resourceUuid } } })
})

t.test('GET /v1/accounts?product= filters, with the other filters and paging', async (t) => {
  const { app, services, auth } = await build(t)
  for (const [i, product] of ['acme-db', 'acme-logs', 'acme-db', 'acme-db', 'acme-logs'].entries()) {
    await services.lifecycle.execute({ key: { product, marketplace: i === 3 ? 'aws' : 'heroku', externalId: `ext-${i}` } },
      { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  }
  const list = async (q: string) => (await app.inject({ method: 'GET', url: `/v1/accounts?${q}`, headers: auth })).json()
  const ids = (page: { data: Array<{ external_id: string, product: string }> }) => page.data.map((a) => `${a.product}/${a.external_id}`)
  t.same(ids(await list('product=acme-logs')), ['acme-logs/ext-1', 'acme-logs/ext-4'])
  t.same(ids(await list('product=acme-db&marketplace=heroku')), ['acme-db/ext-0', 'acme-db/ext-2'])
  t.same(ids(await list('product=acme-db&external_id=ext-3')), ['acme-db/ext-3'])
  t.same(ids(await list('product=acme-logs&external_id=ext-3')), [])
  t.same(ids(await list('product=nobody')), [])
  const first = await list('product=acme-db&limit=2')
  t.same(ids(first), ['acme-db/ext-0', 'acme-db/ext-2'])
  t.same(ids(await list(`product=acme-db&limit=2&cursor=${first.next_cursor}`)), ['acme-db/ext-3'])
  for (const bad of ['product=Acme', 'product=', 'product=-x', `product=${'a'.repeat(64)}`]) {
    const res = await app.inject({ method: 'GET', url: `/v1/accounts?${bad}`, headers: auth })
    t.equal(res.statusCode, 400, bad)
    t.equal(res.json().error.code, 'VALIDATION_FAILED', bad)
  }
})
