import t from 'tap'
import { build } from '../helpers/build.js'

const key = { product: 'default', marketplace: 'heroku' as const, externalId: '01234567-89ab-cdef-0123-456789abcdef' }

t.test('a provision writes the account, its event and nothing else in one transaction', async (t) => {
  const { services } = await build(t)
  const r = await services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  t.equal(r.outcome, 'changed')
  t.equal(r.created, true)
  t.equal(r.account?.status, 'active')
  const events = await services.db.selectFrom('account_events').selectAll().execute()
  t.same(events.map((e) => e.type), ['account.provisioned'])
  t.equal(events[0]!.account_id, r.account!.id)
})

t.test('twenty concurrent provisions of one key create one account and one event', async (t) => {
  const { services } = await build(t)
  const results = await Promise.all(Array.from({ length: 20 }, () =>
    services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })))
  t.equal(results.filter((r) => r.created).length, 1)
  t.equal(new Set(results.map((r) => r.account?.id)).size, 1)
  const accounts = await services.db.selectFrom('accounts').selectAll().execute()
  t.equal(accounts.length, 1)
  const events = await services.db.selectFrom('account_events').selectAll().execute()
  t.equal(events.length, 1)
})

t.test('a message id seen before changes nothing, even when sent concurrently', async (t) => {
  const { services } = await build(t)
  const run = () => services.lifecycle.execute({ key: { product: 'default', marketplace: 'aws', externalId: 'cust-1' } }, { type: 'activate' },
    { createIfAbsent: true, messageId: 'msg-1', messagePayload: { a: 1 } })
  const results = await Promise.all([run(), run(), run()])
  t.same(results.map((r) => r.outcome).sort(), ['changed', 'duplicate', 'duplicate'])
  t.equal((await services.db.selectFrom('account_events').selectAll().execute()).length, 1)
})

t.test('a refused command writes nothing', async (t) => {
  const { services } = await build(t)
  await services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  await services.lifecycle.execute({ key }, { type: 'cancel' })
  await t.rejects(services.lifecycle.execute({ key }, { type: 'changePlan', plan: 'pro' }), { code: 'GONE' })
  await t.rejects(services.lifecycle.execute({ key: { ...key, externalId: 'nobody' } }, { type: 'changePlan', plan: 'pro' }), { code: 'NOT_FOUND' })
  const events = await services.db.selectFrom('account_events').select('type').orderBy('id').execute()
  t.same(events.map((e) => e.type), ['account.provisioned', 'account.cancelled'])
})

t.test('each event fans out to every enabled endpoint whose filter matches', async (t) => {
  const { services, clock } = await build(t)
  const now = clock.now()
  await services.db.insertInto('webhook_endpoints').values([
    { id: services.random.uuid(), url: 'http://a.test', events: null, secret_encrypted: 'x', created_at: now, updated_at: now },
    { id: services.random.uuid(), url: 'http://b.test', events: ['account.cancelled'], secret_encrypted: 'x', created_at: now, updated_at: now },
    { id: services.random.uuid(), url: 'http://c.test', events: null, enabled: false, secret_encrypted: 'x', created_at: now, updated_at: now }
  ]).execute()
  await services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  await services.lifecycle.execute({ key }, { type: 'cancel' })
  const rows = await services.db.selectFrom('webhook_deliveries')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .innerJoin('account_events', 'account_events.id', 'webhook_deliveries.event_id')
    .select(['webhook_endpoints.url', 'account_events.type']).orderBy('account_events.id').orderBy('webhook_endpoints.url').execute()
  t.same(rows, [
    { url: 'http://a.test', type: 'account.provisioned' },
    { url: 'http://a.test', type: 'account.cancelled' },
    { url: 'http://b.test', type: 'account.cancelled' }
  ])
})

t.test('one Heroku uuid under two products is two accounts; each key finds its own', async (t) => {
  const { services } = await build(t)
  const acme = { ...key, product: 'acme-db' }
  const logs = { ...key, product: 'acme-logs' }
  // Both paths: the one-statement create (a fresh provision) and the transactional one (a message id).
  const a = await services.lifecycle.execute({ key: acme }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  const b = await services.lifecycle.execute({ key: logs }, { type: 'provision', plan: 'pro' }, { createIfAbsent: true, messageId: 'm-logs' })
  t.equal(a.created, true)
  t.equal(b.created, true)
  t.not(a.account!.id, b.account!.id)
  t.match(a.account, { product: 'acme-db', externalId: key.externalId, plan: 'basic' })
  t.match(b.account, { product: 'acme-logs', externalId: key.externalId, plan: 'pro' })
  t.equal((await services.accounts.findAccount(acme))?.id, a.account!.id)
  t.equal((await services.accounts.findAccount(logs))?.id, b.account!.id)
  t.equal(await services.accounts.findAccount(key), undefined, 'nothing under the default product')

  // A change to one product's account leaves the other alone.
  await services.lifecycle.execute({ key: logs }, { type: 'cancel' })
  t.equal((await services.accounts.findAccount(acme))?.status, 'active')
  t.equal((await services.accounts.findAccount(logs))?.status, 'cancelled')
  const rows = await services.db.selectFrom('accounts').select(['product', 'external_id']).orderBy('product').execute()
  t.same(rows, [{ product: 'acme-db', external_id: key.externalId }, { product: 'acme-logs', external_id: key.externalId }])
})

t.test('concurrent creates of one uuid under two products: one account each', async (t) => {
  const { services } = await build(t)
  const products = ['acme-db', 'acme-logs']
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    services.lifecycle.execute({ key: { ...key, product: products[i % 2]! } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })))
  t.equal(results.filter((r) => r.created).length, 2)
  const accounts = await services.db.selectFrom('accounts').select('product').orderBy('product').execute()
  t.same(accounts.map((a) => a.product), products)
})
