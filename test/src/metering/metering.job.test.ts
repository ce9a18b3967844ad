import t from 'tap'
import { accountRows, postRegister, postSns, productCode, snsNotification } from '../../providers/aws/helpers.js'
import { buildMetering, licenseArn } from './helpers.js'

const hour9 = '2026-11-27T09:00:00.000Z'

t.test('batch boundaries: 0, 1, 25, 26 and 1000 records take the fewest calls of at most 25', async (t) => {
  const m = await buildMetering(t)
  const accounts = await Promise.all(Array.from({ length: 10 }, (_, i) => m.subscriber(i)))
  let offset = 0
  for (const [n, calls] of [[0, 0], [1, 1], [25, 1], [26, 2], [1000, 40]] as const) {
    const before = m.meterCalls().length
    // n distinct (account, dimension) pairs in one closed hour
    const records = Array.from({ length: n }, (_, i) => ({ account_id: accounts[i % 10]!.id, dimension: `d${offset + Math.floor(i / 10)}`, quantity: i + 1, timestamp: '2026-11-27T09:30:00Z' }))
    offset += Math.ceil(n / 10) + 1
    for (let i = 0; i < records.length; i += 1000) t.equal((await m.report({ records: records.slice(i, i + 1000) })).statusCode, 202)
    const run = await m.job.runOnce()
    t.equal(run?.sent, n, `${n} records sent`)
    t.equal(m.meterCalls().length - before, calls, `${n} records in ${calls} calls`)
  }
  const bodies = m.meterCalls().map((c) => c.body)
  t.ok(bodies.every((b) => (b.UsageRecords as unknown[]).length <= 25), 'at most 25 records a call')
  t.ok(bodies.every((b) => b.ProductCode === undefined), 'no request-level ProductCode with LicenseArn')
  t.ok(bodies.every((b) => (b.UsageRecords as Array<Record<string, unknown>>).every((r) =>
    r.LicenseArn && r.CustomerAWSAccountId === '210987654321' && r.Timestamp === Date.parse(hour9) / 1000)), 'LicenseArn records at the start of the hour')
  t.equal([...m.fake.metered.values()].reduce((s, v) => s + v.sends, 0), 1052)
})

t.test('legacy accounts send CustomerIdentifier with the ProductCode; each result is stored with its record id', async (t) => {
  const m = await buildMetering(t)
  const legacy = await m.subscriber('old', true)
  const modern = await m.subscriber('new')
  await m.report({ records: [
    { account_id: legacy.id, dimension: 'requests', quantity: 3, timestamp: '2026-11-27T09:05:00Z' },
    { account_id: modern.id, dimension: 'requests', quantity: 4, timestamp: '2026-11-27T09:05:00Z' }
  ] })
  await m.job.runOnce()
  const calls = m.meterCalls()
  t.equal(calls.length, 2)
  const legacyCall = calls.find((c) => c.body.ProductCode === 'prod-abc123')!
  t.same(legacyCall.body.UsageRecords, [{ CustomerIdentifier: 'cust-old', Dimension: 'requests', Quantity: 3, Timestamp: Date.parse(hour9) / 1000 }])
  const rows = await m.hours('&status=sent')
  t.equal(rows.length, 2)
  t.ok(rows.every((r) => r.metering_status === 'Success' && String(r.metering_record_id).startsWith('mr-')))
})

t.test('an open hour waits; a closed one is sent once, and a repeated run sends nothing', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  await m.report({ account_id: acc.id, dimension: 'requests', quantity: 2 })
  t.equal((await m.job.runOnce())?.calls, 0, 'the current hour is still open')
  m.clock.advance(3600_000)
  t.equal((await m.job.runOnce())?.sent, 1)
  t.equal((await m.job.runOnce())?.calls, 0)
  t.equal(m.fake.metered.get(`${licenseArn(1)}|requests|${Date.parse('2026-11-27T10:00:00Z')}`)?.sends, 1)
})

t.test('zero records go out every closed hour for subscribers, for the configured dimensions', async (t) => {
  const m = await buildMetering(t, { AWS_METERING_DIMENSIONS: 'requests,seats' })
  await m.subscriber(1)
  await m.services.lifecycle.execute({ key: { product: 'default', marketplace: 'aws', externalId: 'cust-pending' } }, { type: 'pending' }, { createIfAbsent: true })
  m.clock.advance(2 * 3600_000) // 12:00: hours 10 and 11 are closed
  const run = await m.job.runOnce()
  t.equal(run?.sent, 4)
  const sent = await m.hours('&status=sent')
  t.same(sent.map((r) => [r.hour, r.dimension, r.quantity]), [
    ['2026-11-27T10:00:00.000Z', 'requests', 0], ['2026-11-27T10:00:00.000Z', 'seats', 0],
    ['2026-11-27T11:00:00.000Z', 'requests', 0], ['2026-11-27T11:00:00.000Z', 'seats', 0]
  ])
})

t.test('CustomerNotSubscribed and a duplicate with another quantity are stored, visible, and not retried', async (t) => {
  const m = await buildMetering(t)
  const a = await m.subscriber(1)
  const b = await m.subscriber(2)
  m.fake.unsubscribed.add(licenseArn(1))
  m.fake.metered.set(`${licenseArn(2)}|requests|${Date.parse(hour9)}`, { quantity: 99, id: 'mr-earlier', sends: 1 })
  await m.report({ records: [
    { account_id: a.id, dimension: 'requests', quantity: 1, timestamp: '2026-11-27T09:01:00Z' },
    { account_id: b.id, dimension: 'requests', quantity: 1, timestamp: '2026-11-27T09:01:00Z' }
  ] })
  const run = await m.job.runOnce()
  t.equal(run?.rejected, 2)
  const rows = await m.hours('&status=rejected')
  t.same(rows.map((r) => r.metering_status).sort(), ['CustomerNotSubscribed', 'DuplicateRecord'])
  m.clock.advance(3600_000)
  const before = m.meterCalls().length
  await m.job.runOnce()
  t.equal(m.meterCalls().length, before, 'rejected records are not sent again')
})

t.test('unprocessed records, throttling and 5xx are retried with backoff as the identical record', async (t) => {
  const m = await buildMetering(t)
  const a = await m.subscriber(1)
  const b = await m.subscriber(2)
  await m.report({ records: [
    { account_id: a.id, dimension: 'requests', quantity: 5, timestamp: '2026-11-27T09:01:00Z' },
    { account_id: b.id, dimension: 'requests', quantity: 6, timestamp: '2026-11-27T09:01:00Z' }
  ] })
  m.fake.unprocessedOnce.add(licenseArn(2))
  let run = await m.job.runOnce()
  t.same([run?.sent, run?.retrying], [1, 1])
  // New usage for that hour no longer changes the frozen record: it goes to the current hour.
  const late = await m.report({ account_id: b.id, dimension: 'requests', quantity: 100, timestamp: '2026-11-27T09:30:00Z' })
  t.equal(late.json().carried, 1)
  t.equal((await m.job.runOnce())?.calls, 0, 'not before its backoff')
  m.fake.fail('AWSMPMeteringService.BatchMeterUsage', 'ThrottlingException', 'InternalServiceErrorException')
  m.clock.advance(30_000)
  run = await m.job.runOnce()
  t.equal(run?.retrying, 1, 'throttled')
  m.clock.advance(60_000)
  run = await m.job.runOnce()
  t.equal(run?.retrying, 1, '5xx')
  m.clock.advance(120_000)
  run = await m.job.runOnce()
  t.equal(run?.sent, 1)
  const sends = m.meterCalls().flatMap((c) => (c.body.UsageRecords as Array<Record<string, unknown>>).filter((x) => x.LicenseArn === licenseArn(2) && x.Timestamp === Date.parse(hour9) / 1000))
  t.equal(sends.length, 4)
  t.ok(sends.every((r) => JSON.stringify(r) === JSON.stringify(sends[0])), 'every resend is the identical record')
  const row = (await m.hours(`&account_id=${b.id}`)).find((r) => r.hour === hour9)!
  t.match(row, { status: 'sent', quantity: 6, sent_quantity: 6, attempts: 4 })
})

t.test('a record AWS can no longer accept is isolated and expired; the rest of its batch is sent', async (t) => {
  const m = await buildMetering(t)
  m.fake.meteringWindowMs = 2 * 3600_000
  const accounts = await Promise.all(Array.from({ length: 5 }, (_, i) => m.subscriber(i)))
  // The first account's usage is five hours old (billed in its own hour: under the 6 h carry rule).
  await m.report({ account_id: accounts[0]!.id, dimension: 'requests', quantity: 1, timestamp: '2026-11-27T05:10:00Z' })
  await m.report({ records: accounts.slice(1).map((a) => ({ account_id: a.id, dimension: 'requests', quantity: 1, timestamp: '2026-11-27T09:10:00Z' })) })
  const run = await m.job.runOnce()
  t.same([run?.sent, run?.expired], [4, 1])
  const expired = await m.hours('&status=expired')
  t.same(expired.map((r) => [r.account_id, r.hour, r.last_error]), [[accounts[0]!.id, '2026-11-27T05:00:00.000Z', 'TimestampOutOfBoundsException']])
})

t.test('never before subscribe-success; the final window flushes after unsubscribe-pending; nothing after unsubscribe-success', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  await m.report({ account_id: acc.id, dimension: 'requests', quantity: 2, timestamp: '2026-11-27T10:00:00Z' })
  await m.services.lifecycle.execute({ accountId: acc.id }, { type: 'suspend' })
  m.clock.advance(20 * 60_000)
  await m.report({ account_id: acc.id, dimension: 'requests', quantity: 3 })
  t.equal((await m.job.runOnce())?.calls, 0, 'still inside the final window')
  m.clock.advance(31 * 60_000) // 10:51, the window has closed: flush the open hour
  t.equal((await m.job.runOnce())?.sent, 1)
  t.same((await m.hours()).map((r) => [r.hour, r.quantity, r.status]), [['2026-11-27T10:00:00.000Z', 5, 'sent']])

  const other = await m.subscriber(2)
  await m.report({ account_id: other.id, dimension: 'requests', quantity: 7 })
  await m.services.lifecycle.execute({ accountId: other.id }, { type: 'cancel' })
  m.clock.advance(3600_000)
  const before = m.meterCalls().length
  await m.job.runOnce()
  t.equal(m.meterCalls().length, before)
  t.same((await m.hours(`&account_id=${other.id}`)).map((r) => r.status), ['skipped'])
})

t.test('two gateway instances running the job at once send every record exactly once', async (t) => {
  const m = await buildMetering(t)
  const accounts = await Promise.all(Array.from({ length: 6 }, (_, i) => m.subscriber(i)))
  await m.report({ records: accounts.flatMap((a) => Array.from({ length: 10 }, (_, d) => ({ account_id: a.id, dimension: `d${d}`, quantity: d, timestamp: '2026-11-27T09:20:00Z' }))) })
  const [one, two] = await Promise.all([m.job.runOnce(), m.secondJob.runOnce()])
  const again = await Promise.all([m.job.runOnce(), m.secondJob.runOnce()])
  t.equal((one?.sent ?? 0) + (two?.sent ?? 0) + (again[0]?.sent ?? 0) + (again[1]?.sent ?? 0), 60)
  t.ok([...m.fake.metered.values()].every((v) => v.sends === 1), 'no record was sent twice')
  t.equal(m.fake.metered.size, 60)
})

t.test('a record still unsent 23 hours after its hour is expired, never dropped silently', async (t) => {
  const m = await buildMetering(t)
  const acc = await m.subscriber(1)
  await m.report({ account_id: acc.id, dimension: 'requests', quantity: 1, timestamp: '2026-11-27T09:10:00Z' })
  m.fake.fail('AWSMPMeteringService.BatchMeterUsage', ...Array.from({ length: 200 }, () => 'ThrottlingException'))
  for (let i = 0; i < 60; i++) { await m.job.runOnce(); m.clock.advance(30 * 60_000) }
  const rows = await m.hours()
  t.match(rows[0], { status: 'expired', last_error: 'not accepted by AWS within 23 hours of its hour' })
  const metrics = await m.app.inject('/metrics')
  t.match(metrics.body, /marketgate_metering_records_total\{outcome="expired"\} 1/)
})

t.test('an account first created by a legacy message meters by LicenseArn once registration tells us its license', async (t) => {
  const m = await buildMetering(t)
  await postSns(m.app, snsNotification('m-1', { action: 'subscribe-success', 'customer-identifier': 'cust-7' }))
  const arn = licenseArn(7)
  m.fake.tokens.set('tok', { CustomerIdentifier: 'cust-7', CustomerAWSAccountId: '210987654321', ProductCode: productCode, LicenseArn: arn })
  t.equal((await postRegister(m.app, 'tok')).statusCode, 303)
  const [account] = await accountRows(m)
  t.equal(account!.external_id, 'cust-7', 'keyed by the CustomerIdentifier it was created with')
  await m.report({ records: [{ account_id: account!.id, dimension: 'requests', quantity: 5, timestamp: '2026-11-27T10:05:00Z' }] })
  m.clock.advance(3600_000)
  t.equal((await m.job.runOnce())?.sent, 1)
  const [call] = m.meterCalls()
  t.equal(call!.body.ProductCode, undefined, 'no request-level ProductCode with LicenseArn')
  t.same(call!.body.UsageRecords, [{ LicenseArn: arn, CustomerAWSAccountId: '210987654321', Dimension: 'requests', Quantity: 5, Timestamp: Date.parse('2026-11-27T10:00:00Z') / 1000 }])
})
