import t from 'tap'
import { parseEvent } from '../../../providers/aws/notification.parse.js'
import { createAwsFromServices } from '../../../src/aws.wiring.js'
import { accountRows, buildAws, customer, eventsSecret, eventTypes, postRegister, postSns, productCode, snsNotification } from './helpers.js'

const ci = 'cust-1'
const sns = (id: string, action: string, extra: Record<string, string> = {}) => snsNotification(id, { action, 'customer-identifier': ci, ...extra })

const lifecycle: Array<[string, string, string]> = [
  ['subscribe-success', 'active', 'account.provisioned'],
  ['subscribe-fail', 'failed', 'account.failed'],
  ['unsubscribe-pending', 'suspended', 'account.suspended'],
  ['unsubscribe-success', 'cancelled', 'account.cancelled']
]
for (const [action, status, event] of lifecycle) {
  t.test(`${action} on a pending account: ${status} with ${event}`, async (t) => {
    const built = await buildAws(t)
    built.fake.tokens.set('tok', customer('legacy'))
    await postRegister(built.app, 'tok')
    const res = await postSns(built.app, sns('m-1', action, { isFreeTrialTermPresent: 'TRUE' }))
    t.equal(res.statusCode, 200)
    const [row] = await accountRows(built)
    t.equal(row!.status, status)
    t.equal(row!.metadata.freeTrial, true)
    t.same((await eventTypes(built)).slice(2), [event])
  })
}

t.test('a repeated message changes nothing and answers exactly as the first did', async (t) => {
  const built = await buildAws(t)
  const m = sns('m-1', 'subscribe-success')
  const first = await postSns(built.app, m)
  const second = await postSns(built.app, m)
  t.same([second.statusCode, second.body], [first.statusCode, first.body])
  t.equal(first.statusCode, 200)
  t.same(await eventTypes(built), ['account.provisioned'])
  t.ok(built.logs.some((l) => l.includes('"outcome":"duplicate"')), 'the log still tells them apart')
})

t.test('a late subscribe-success after unsubscribe-success does not reactivate the account', async (t) => {
  const built = await buildAws(t)
  await postSns(built.app, sns('m-1', 'subscribe-success'))
  await postSns(built.app, sns('m-2', 'unsubscribe-pending'))
  await postSns(built.app, sns('m-3', 'unsubscribe-success'))
  const late = await postSns(built.app, sns('m-0', 'subscribe-success'))
  t.equal(late.statusCode, 200, 'acknowledged')
  t.same(late.json(), { status: 'ok' })
  t.equal((await accountRows(built))[0]!.status, 'cancelled')
  t.same(await eventTypes(built), ['account.provisioned', 'account.suspended', 'account.cancelled'])
})

t.test('a late subscribe-fail after subscribe-success, or unsubscribe-pending after cancel, moves nothing back', async (t) => {
  const built = await buildAws(t)
  await postSns(built.app, sns('m-1', 'subscribe-success'))
  await postSns(built.app, sns('m-0', 'subscribe-fail'))
  t.equal((await accountRows(built))[0]!.status, 'active')
  await postSns(built.app, sns('m-3', 'unsubscribe-success'))
  await postSns(built.app, sns('m-2', 'unsubscribe-pending'))
  t.equal((await accountRows(built))[0]!.status, 'cancelled')
})

t.test('a notification before registration creates the account; registration then finds it (legacy)', async (t) => {
  const built = await buildAws(t)
  await postSns(built.app, sns('m-1', 'entitlement-updated'))
  let rows = await accountRows(built)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.status, 'pending')
  t.equal(rows[0]!.external_id, ci)
  // AWS now gives a LicenseArn too: the account found through its CustomerIdentifier keeps its key.
  built.fake.tokens.set('tok', { ...customer('legacy'), LicenseArn: 'arn:aws:license-manager::123456789011:license:l-9' })
  t.equal((await postRegister(built.app, 'tok')).statusCode, 303)
  rows = await accountRows(built)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.customer_account_id, '123456789011')
  t.equal(rows[0]!.metadata.licenseArn, 'arn:aws:license-manager::123456789011:license:l-9')
  await postSns(built.app, sns('m-2', 'subscribe-success'))
  t.equal((await accountRows(built))[0]!.status, 'active')
})

t.test('a legacy message finds an account keyed by LicenseArn through its CustomerIdentifier', async (t) => {
  const built = await buildAws(t)
  const c = { ...customer('concurrent'), CustomerIdentifier: ci }
  built.fake.tokens.set('tok', c)
  await postRegister(built.app, 'tok')
  await postSns(built.app, sns('m-1', 'subscribe-success'))
  const rows = await accountRows(built)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.external_id, c.LicenseArn)
  t.equal(rows[0]!.status, 'active')
})

t.test('entitlement-updated pages GetEntitlements to the end and maps dimensions to plans', async (t) => {
  const built = await buildAws(t, { AWS_PLAN_DIMENSIONS: 'gold=Gold,silver=Silver' })
  built.fake.entitlementPageSize = 2
  built.fake.entitlements.set(ci, [
    { Dimension: 'seats', Value: { IntegerValue: 5 } },
    { Dimension: 'storage', Value: { DoubleValue: 1.5 } },
    { Dimension: 'silver', Value: { BooleanValue: true } },
    { Dimension: 'region', Value: { StringValue: 'eu' } },
    { Dimension: 'gold', Value: { BooleanValue: false } }
  ])
  await postSns(built.app, sns('m-1', 'subscribe-success'))
  await postSns(built.app, sns('m-2', 'entitlement-updated'))
  const calls = built.fake.calls('AWSMPEntitlementService.GetEntitlements')
  t.same(calls.map((c) => c.body.NextToken ?? null), [null, '2', '4'])
  t.same(calls[0]!.body.Filter, { CUSTOMER_IDENTIFIER: [ci] })
  let [row] = await accountRows(built)
  t.equal(row!.entitlements.length, 5)
  t.equal(row!.plan, 'Silver')
  t.same((await eventTypes(built)), ['account.provisioned', 'account.entitlements_updated', 'account.plan_changed'])

  // An upgrade: the plan moves and says so; the same entitlements again change nothing.
  built.fake.entitlements.set(ci, [{ Dimension: 'gold', Value: { BooleanValue: true } }])
  await postSns(built.app, sns('m-3', 'entitlement-updated'))
  await postSns(built.app, sns('m-4', 'entitlement-updated'))
  row = (await accountRows(built))[0]
  t.equal(row!.plan, 'Gold')
  const events = await built.services.db.selectFrom('account_events').select(['type', 'data']).orderBy('id').execute()
  t.same(events.map((e) => e.type).slice(3), ['account.entitlements_updated', 'account.plan_changed'])
  t.same(events[4]!.data, { previous_plan: 'Silver', plan: 'Gold' })
})

t.test('without a dimension map the entitled dimension names the plan', async (t) => {
  const built = await buildAws(t)
  built.fake.entitlements.set(ci, [{ Dimension: 'premium_tier', Value: { IntegerValue: 1 } }, { Dimension: 'basic_tier', Value: { IntegerValue: 0 } }])
  await postSns(built.app, sns('m-1', 'entitlement-updated'))
  t.equal((await accountRows(built))[0]!.plan, 'premium_tier')
})

t.test('a GetEntitlements outage is a 5xx so SNS retries, and nothing is recorded', async (t) => {
  const built = await buildAws(t)
  built.fake.fail('AWSMPEntitlementService.GetEntitlements', 'InternalServiceErrorException')
  const res = await postSns(built.app, sns('m-1', 'entitlement-updated'))
  t.equal(res.statusCode, 500)
  t.equal((await built.services.db.selectFrom('inbound_messages').selectAll().execute()).length, 0)
  t.equal((await postSns(built.app, sns('m-1', 'entitlement-updated'))).statusCode, 200, 'the retry applies')
})

t.test('messages for another product are acknowledged and ignored', async (t) => {
  const built = await buildAws(t)
  const res = await postSns(built.app, snsNotification('m-1', { action: 'subscribe-success', 'customer-identifier': ci, 'product-code': 'other' }))
  t.same(res.json(), { status: 'ok' })
  t.equal((await accountRows(built)).length, 0)
})

// EventBridge
const licenseArn = 'arn:aws:license-manager::123456789011:license:l-1abc'
function event (id: string, detailType: string, detail: Record<string, unknown>) {
  return { version: '0', id, 'detail-type': detailType, source: 'aws.agreement-marketplace', account: '999999999999', time: '2026-11-27T10:00:00Z', region: 'us-east-1', resources: [], detail }
}
const licenseDetail = { agreement: { id: 'agmt-1' }, product: { code: productCode }, license: { arn: licenseArn.replace(/^arn:/, '') }, acceptor: { accountId: '123456789011' } }
const agreementDetail = (status: string) => ({ agreement: { id: 'agmt-1', status }, acceptor: { accountId: '123456789011' }, offer: { id: 'offer-1' } })
const postEvent = (app: Awaited<ReturnType<typeof buildAws>>['app'], body: unknown, secret = eventsSecret) =>
  app.inject({ method: 'POST', url: '/aws/events', headers: { 'x-marketgate-events-secret': secret }, payload: body as object })

t.test('/aws/events needs the shared secret', async (t) => {
  const built = await buildAws(t)
  const e = event('e-1', 'License Updated - Manufacturer', licenseDetail)
  t.equal((await postEvent(built.app, e, 'wrong-secret-0123456789')).statusCode, 401)
  t.equal((await built.app.inject({ method: 'POST', url: '/aws/events', payload: e })).statusCode, 401)
  t.equal((await accountRows(built)).length, 0)
})

t.test('/aws/events is closed without AWS_EVENTS_SECRET', async (t) => {
  const built = await buildAws(t, { AWS_EVENTS_SECRET: '' })
  t.equal((await postEvent(built.app, event('e-1', 'License Updated - Manufacturer', licenseDetail))).statusCode, 404)
})

t.test('EventBridge: license updated, agreement created, deprovisioned, ended — concurrent agreements end to end', async (t) => {
  const built = await buildAws(t)
  built.fake.entitlements.set(licenseArn, [{ Dimension: 'seats', Value: { IntegerValue: 10 } }])
  // The license event arrives before registration: the account is created pending, keyed by the full ARN.
  t.same((await postEvent(built.app, event('e-1', 'License Updated - Manufacturer', licenseDetail))).json(), { status: 'ok' })
  let [row] = await accountRows(built)
  t.equal(row!.external_id, licenseArn)
  t.equal(row!.status, 'pending')
  t.equal(row!.plan, 'seats')
  t.equal(row!.metadata.agreementId, 'agmt-1')
  t.same(built.fake.calls('AWSMPEntitlementService.GetEntitlements')[0]!.body.Filter, { LICENSE_ARN: [licenseArn] })

  built.fake.tokens.set('tok', customer('concurrent'))
  await postRegister(built.app, 'tok')
  t.equal((await accountRows(built)).length, 1)

  await postEvent(built.app, event('e-2', 'Purchase Agreement Created - Proposer', agreementDetail('ACTIVE')))
  t.equal((await accountRows(built))[0]!.status, 'active')
  t.same((await postEvent(built.app, event('e-2', 'Purchase Agreement Created - Proposer', agreementDetail('ACTIVE')))).json(), { status: 'ok' })
  t.equal((await eventTypes(built)).filter((e) => e === 'account.provisioned').length, 1, 'the repeat changed nothing')
  await postEvent(built.app, event('e-3', 'License Deprovisioned - Manufacturer', licenseDetail))
  t.equal((await accountRows(built))[0]!.status, 'suspended')
  await postEvent(built.app, event('e-4', 'Purchase Agreement Ended - Manufacturer', agreementDetail('EXPIRED')))
  row = (await accountRows(built))[0]
  t.equal(row!.status, 'cancelled')
  const before = await eventTypes(built)
  t.same((await postEvent(built.app, event('e-9', 'Purchase Agreement Created - Manufacturer', agreementDetail('ACTIVE')))).json(), { status: 'ok' })
  t.same((await postEvent(built.app, event('e-10', 'Purchase Agreement Ending Soon', {}))).json(), { status: 'ok' })
  t.equal((await accountRows(built))[0]!.status, 'cancelled')
  t.same(await eventTypes(built), before, 'late and unknown events change nothing')
})

t.test('an agreement event waits until a License Updated event links its agreement, then applies', async (t) => {
  const built = await buildAws(t)
  t.same((await postEvent(built.app, event('e-1', 'Purchase Agreement Created - Manufacturer', agreementDetail('ACTIVE')))).json(), { status: 'ok' })
  t.equal((await accountRows(built)).length, 0)
  const waitingNow = async () => (await built.app.inject({ method: 'GET', url: '/v1/aws/dead-messages?state=waiting', headers: built.auth })).json().data
  const waiting = await waitingNow()
  t.equal(waiting.length, 1)
  t.equal(waiting[0].match_key, 'aws-agreement:agmt-1')

  // Registration names no agreement: the event keeps waiting, the account stays pending.
  built.fake.tokens.set('tok', customer('concurrent'))
  t.equal((await postRegister(built.app, 'tok')).statusCode, 303)
  t.equal((await accountRows(built))[0]!.status, 'pending')
  t.equal((await waitingNow()).length, 1)

  // The license event names agreement and license: it links them and releases the event.
  await postEvent(built.app, event('e-2', 'License Updated - Manufacturer', licenseDetail))
  const [row] = await accountRows(built)
  t.equal(row!.status, 'active')
  t.equal(row!.metadata.agreementId, 'agmt-1')
  t.same(await eventTypes(built), ['account.pending', 'account.login', 'account.provisioned'])
  t.equal((await waitingNow()).length, 0)
})

t.test("an agreement ending for another product never cancels the buyer's only account", async (t) => {
  const built = await buildAws(t)
  built.fake.tokens.set('tok', customer('concurrent'))
  await postRegister(built.app, 'tok')
  // Product B's agreement: same buyer AWS account, no product in the event, agreement unknown here.
  const ended = { agreement: { id: 'agmt-product-b', status: 'CANCELLED' }, acceptor: { accountId: '123456789011' } }
  await postEvent(built.app, event('e-1', 'Purchase Agreement Ended - Manufacturer', ended))
  const [row] = await accountRows(built)
  t.equal(row!.status, 'pending')
  t.equal(row!.metadata.agreementId, undefined)
  t.same(await eventTypes(built), ['account.pending', 'account.login'])
})

t.test('a license event for another product is ignored and links nothing', async (t) => {
  const built = await buildAws(t)
  built.fake.tokens.set('tok', customer('concurrent'))
  await postRegister(built.app, 'tok')
  const other = { ...licenseDetail, product: { code: 'someone-elses-product' } }
  await postEvent(built.app, event('e-1', 'License Updated - Manufacturer', other))
  const rows = await accountRows(built)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.metadata.agreementId, undefined)
  t.equal(built.fake.calls('AWSMPEntitlementService.GetEntitlements').length, 1, 'only the registration asked')
})

t.test('an instance that dies while replaying a waiting event loses nothing: the next release applies it', async (t) => {
  const built = await buildAws(t)
  await postEvent(built.app, event('e-1', 'Purchase Agreement Created - Manufacturer', agreementDetail('ACTIVE')))
  built.fake.tokens.set('tok', customer('concurrent'))
  await postRegister(built.app, 'tok')

  // Instance A links the agreement, then "dies" as it starts the replay: its change never runs.
  let reached!: () => void
  const dying = new Promise<void>((resolve) => { reached = resolve })
  const real = built.services.lifecycle
  const lifecycle: typeof real = {
    execute: (target, command, options) => options?.messageId === 'eb:e-1' ? (reached(), new Promise(() => {})) : real.execute(target, command, options)
  }
  const a = createAwsFromServices({ ...built.services, lifecycle }, { clients: { maxAttempts: 1 } })
  void a.handler.handle(parseEvent(event('e-2', 'License Updated - Manufacturer', licenseDetail))!, 'events')
  await dying
  const parked = () => built.services.db.selectFrom('parked_messages').select(['message_id', 'state']).execute()
  t.same(await parked(), [{ message_id: 'eb:e-1', state: 'waiting' }], 'still waiting, claimable again')
  t.equal((await accountRows(built))[0]!.status, 'pending')

  // Instance B releases it (any later message of that account does).
  await built.provider.handler.releaseFor((await built.services.accounts.findAccount({ product: 'default', marketplace: 'aws', externalId: licenseArn }))!)
  t.equal((await accountRows(built))[0]!.status, 'active')
  t.same(await parked(), [])
})

t.test('a replayed waiting event leaves its row exactly when its change commits', async (t) => {
  const built = await buildAws(t)
  await postEvent(built.app, event('e-1', 'Purchase Agreement Created - Manufacturer', agreementDetail('ACTIVE')))
  await postEvent(built.app, event('e-2', 'License Updated - Manufacturer', licenseDetail))
  t.equal((await accountRows(built))[0]!.status, 'active')
  t.equal((await built.services.db.selectFrom('parked_messages').selectAll().execute()).length, 0)
  // Replaying again (a second instance's stale list) is a duplicate and changes nothing.
  await built.provider.handler.releaseFor((await built.services.accounts.findAccount({ product: 'default', marketplace: 'aws', externalId: licenseArn }))!)
  t.same(await eventTypes(built), ['account.pending', 'account.entitlements_updated', 'account.provisioned'])
})


t.test('a repeated EventBridge event answers exactly as the first did', async (t) => {
  const built = await buildAws(t)
  const e = event('e-1', 'License Updated - Manufacturer', licenseDetail)
  const first = await postEvent(built.app, e)
  const second = await postEvent(built.app, e)
  t.same([second.statusCode, second.body], [first.statusCode, first.body])
  t.equal((await accountRows(built)).length, 1)
})
