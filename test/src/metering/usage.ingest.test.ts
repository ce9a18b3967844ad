import t from 'tap'
import { buildMetering } from './helpers.js'

t.test('usage is validated, and an invalid batch writes nothing', async (t) => {
  const m = await buildMetering(t, { AWS_METERING_DIMENSIONS: 'requests,seats' })
  const acc = await m.subscriber(1)
  const pending = (await m.services.lifecycle.execute({ key: { product: 'default', marketplace: 'aws', externalId: 'cust-pending' } }, { type: 'pending' }, { createIfAbsent: true })).account!
  const cases: Array<[string, unknown, number]> = [
    ['negative quantity', { account_id: acc.id, dimension: 'requests', quantity: -1 }, 400],
    ['fractional quantity', { account_id: acc.id, dimension: 'requests', quantity: 1.5 }, 400],
    ['unknown dimension', { account_id: acc.id, dimension: 'bytes', quantity: 1 }, 400],
    ['no account', { dimension: 'requests', quantity: 1 }, 400],
    ['unknown account', { account_id: '00000000-0000-7000-8000-000000000000', dimension: 'requests', quantity: 1 }, 400],
    ['before subscribe-success', { account_id: pending.id, dimension: 'requests', quantity: 1 }, 400],
    ['from the future', { account_id: acc.id, dimension: 'requests', quantity: 1, timestamp: '2026-11-27T12:00:00Z' }, 400],
    ['too many records', { records: Array.from({ length: 1001 }, () => ({ account_id: acc.id, dimension: 'requests', quantity: 1 })) }, 400],
    ['one bad record in a batch', { records: [{ account_id: acc.id, dimension: 'requests', quantity: 1 }, { account_id: acc.id, dimension: 'nope', quantity: 1 }] }, 400]
  ]
  for (const [name, body, status] of cases) {
    const res = await m.report(body)
    t.equal(res.statusCode, status, name)
    t.equal(res.json().error.code, 'VALIDATION_FAILED', name)
  }
  t.equal((await m.services.db.selectFrom('usage_reports').selectAll().execute()).length, 0)
  t.equal((await m.services.db.selectFrom('usage_hours').selectAll().execute()).length, 0)
})

t.test('reports add up per account, dimension and hour; a repeated idempotency key counts once', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  const at = '2026-11-27T09:15:00Z'
  let res = await m.report({ records: [
    { account_id: acc.id, dimension: 'requests', quantity: 5, timestamp: at, idempotency_key: 'k1' },
    { marketplace: 'aws', external_id: acc.externalId, dimension: 'requests', quantity: 7, timestamp: '2026-11-27T09:59:59Z' },
    { account_id: acc.id, dimension: 'seats', quantity: 2, timestamp: at }
  ] })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { accepted: 3, duplicates: 0, carried: 0 })
  res = await m.report({ account_id: acc.id, dimension: 'requests', quantity: 5, timestamp: at, idempotency_key: 'k1' })
  t.same(res.json(), { accepted: 0, duplicates: 1, carried: 0 })
  const rows = await m.hours()
  t.same(rows.map((r) => [r.dimension, r.hour, r.quantity, r.reports, r.status]), [
    ['requests', '2026-11-27T09:00:00.000Z', 12, 2, 'pending'],
    ['seats', '2026-11-27T09:00:00.000Z', 2, 1, 'pending']
  ])
})

t.test('usage for an hour already metered is billed in the current hour, visibly', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  await m.report({ account_id: acc.id, dimension: 'requests', quantity: 3, timestamp: '2026-11-27T09:10:00Z' })
  const run = await m.job.runOnce()
  t.equal(run?.sent, 1)
  const res = await m.report({ account_id: acc.id, dimension: 'requests', quantity: 4, timestamp: '2026-11-27T09:20:00Z' })
  t.same(res.json(), { accepted: 1, duplicates: 0, carried: 1 })
  const rows = await m.hours()
  t.same(rows.map((r) => [r.hour, r.quantity, r.status]), [
    ['2026-11-27T09:00:00.000Z', 3, 'sent'],
    ['2026-11-27T10:00:00.000Z', 4, 'pending']
  ])
  const late = await m.services.db.selectFrom('usage_reports').selectAll().where('quantity', '=', 4).executeTakeFirstOrThrow()
  t.equal(new Date(late.usage_hour).toISOString(), '2026-11-27T09:00:00.000Z')
  t.equal(new Date(late.billed_hour).toISOString(), '2026-11-27T10:00:00.000Z')
})

t.test('usage older than six hours is billed now rather than lost', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  const res = await m.report({ account_id: acc.id, dimension: 'requests', quantity: 9, timestamp: '2026-11-27T02:30:00Z' })
  t.same(res.json(), { accepted: 1, duplicates: 0, carried: 0 })
  t.same((await m.hours()).map((r) => [r.hour, r.quantity]), [['2026-11-27T10:00:00.000Z', 9]])
})

t.test('an unsubscribe-pending account may report within its final window, not after; a cancelled one never', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  await m.services.lifecycle.execute({ accountId: acc.id }, { type: 'suspend' })
  m.clock.advance(49 * 60_000)
  t.equal((await m.report({ account_id: acc.id, dimension: 'requests', quantity: 1 })).statusCode, 202)
  m.clock.advance(2 * 60_000)
  t.equal((await m.report({ account_id: acc.id, dimension: 'requests', quantity: 1 })).statusCode, 400)
  await m.services.lifecycle.execute({ accountId: acc.id }, { type: 'cancel' })
  t.equal((await m.report({ account_id: acc.id, dimension: 'requests', quantity: 1 })).statusCode, 400)
})

t.test('usage lists page by cursor; a forged cursor is a 400', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  await m.report({ records: ['a', 'b', 'c'].map((d) => ({ account_id: acc.id, dimension: d, quantity: 1 })) })
  const page1 = (await m.app.inject({ method: 'GET', url: '/v1/usage?limit=2', headers: m.auth })).json()
  t.same(page1.data.map((r: { dimension: string }) => r.dimension), ['a', 'b'])
  const page2 = (await m.app.inject({ method: 'GET', url: `/v1/usage?limit=2&cursor=${page1.next_cursor}`, headers: m.auth })).json()
  t.same(page2.data.map((r: { dimension: string }) => r.dimension), ['c'])
  t.equal(page2.next_cursor, null)
  for (const cursor of ['%%%', Buffer.from(JSON.stringify(['2026-11-27T10:00:00Z', 'not-a-uuid', 'a'])).toString('base64url')]) {
    const res = await m.app.inject({ method: 'GET', url: `/v1/usage?cursor=${cursor}`, headers: m.auth })
    t.equal(res.statusCode, 400)
    t.equal(res.json().error.code, 'VALIDATION_FAILED')
  }
})

t.test('a record by marketplace and external id finds the account of the configured product, or of the product it names', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  const other = (await m.services.lifecycle.execute({ key: { product: 'acme-logs', marketplace: 'aws', externalId: acc.externalId } },
    { type: 'activate', customerAccountId: '210987654321' }, { createIfAbsent: true })).account!
  const at = '2026-11-27T09:15:00Z'
  t.equal((await m.report({ marketplace: 'aws', external_id: acc.externalId, dimension: 'requests', quantity: 3, timestamp: at })).statusCode, 202)
  t.equal((await m.report({ product: 'acme-logs', marketplace: 'aws', external_id: acc.externalId, dimension: 'requests', quantity: 4, timestamp: at })).statusCode, 202)
  const unknown = await m.report({ product: 'nobody', marketplace: 'aws', external_id: acc.externalId, dimension: 'requests', quantity: 1 })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().error.message, /unknown account/)
  const reports = await m.services.db.selectFrom('usage_reports').select(['account_id', 'quantity']).execute()
  t.same(reports.map((r) => [r.account_id, Number(r.quantity)]).sort((a, b) => Number(a[1]) - Number(b[1])), [[acc.id, 3], [other.id, 4]])
})
