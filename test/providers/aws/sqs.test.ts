import t from 'tap'
import { accountRows, buildAws, customer, eventTypes, postRegister, productCode, snsNotification } from './helpers.js'

const ci = 'cust-1'
const envelope = (id: string, action: string) => snsNotification(id, { action, 'customer-identifier': ci })

t.test('the poller applies SNS envelopes, raw bodies and EventBridge events, deleting each after its commit', async (t) => {
  const built = await buildAws(t)
  const poller = built.provider.poller({ waitSeconds: 0 })!
  built.fake.enqueue('q-1', envelope('m-1', 'subscribe-success'))
  built.fake.enqueue('q-2', { action: 'unsubscribe-pending', 'customer-identifier': ci, 'product-code': productCode })
  built.fake.enqueue('q-3', { id: 'e-1', 'detail-type': 'Purchase Agreement Ended - Manufacturer', source: 'aws.agreement-marketplace', detail: { agreement: { id: 'agmt-1' }, acceptor: { accountId: '123456789011' } } })
  const r = await poller.runOnce()
  t.same(r, { received: 3, done: 3, retried: 0, parked: 0 })
  t.same(built.fake.queue.map((m) => m.deleted), [true, true, true])
  t.equal((await accountRows(built))[0]!.status, 'suspended')
  t.same(built.fake.calls('AmazonSQS.ReceiveMessage')[0]!.body.MessageSystemAttributeNames, ['ApproximateReceiveCount'])
  // The agreement event named an agreement no account is linked to: it waits. The buyer's AWS
  // account alone never picks the account (the event names no product), so the suspended
  // account of this buyer is left alone, and so is one created by registration.
  t.equal((await accountRows(built)).length, 1)
  built.fake.tokens.set('tok', customer('concurrent', 1))
  await postRegister(built.app, 'tok')
  t.same((await accountRows(built)).map((r) => r.status).sort(), ['pending', 'suspended'])
  const waiting = await built.services.db.selectFrom('parked_messages').select(['message_id', 'state', 'match_key']).execute()
  t.same(waiting, [{ message_id: 'eb:e-1', state: 'waiting', match_key: 'aws-agreement:agmt-1' }])
})

t.test('a duplicate delivery (same SNS message twice in the queue) changes nothing', async (t) => {
  const built = await buildAws(t)
  const poller = built.provider.poller({ waitSeconds: 0 })!
  built.fake.enqueue('q-1', envelope('m-1', 'subscribe-success'))
  built.fake.enqueue('q-2', envelope('m-1', 'subscribe-success'))
  await poller.runOnce()
  t.same(await eventTypes(built), ['account.provisioned'])
  t.same(built.fake.queue.map((m) => m.deleted), [true, true])
})

t.test('a message whose change fails is not deleted; it is retried, then applied', async (t) => {
  const built = await buildAws(t)
  const poller = built.provider.poller({ waitSeconds: 0 })!
  built.fake.enqueue('q-1', envelope('m-1', 'entitlement-updated'))
  built.fake.fail('AWSMPEntitlementService.GetEntitlements', 'ThrottlingException')
  t.same(await poller.runOnce(), { received: 1, done: 0, retried: 1, parked: 0 })
  t.equal(built.fake.queue[0]!.deleted, false)
  t.equal(built.fake.calls('AmazonSQS.DeleteMessage').length, 0)
  t.same(built.fake.calls('AmazonSQS.ChangeMessageVisibility')[0]!.body.VisibilityTimeout, 30)
  t.equal((await accountRows(built)).length, 0)
  t.same(await poller.runOnce(), { received: 1, done: 1, retried: 0, parked: 0 })
  t.equal(built.fake.queue[0]!.deleted, true)
  t.equal((await accountRows(built)).length, 1)
})

t.test('a message that keeps failing is parked as dead, deleted, and listed by /v1/aws/dead-messages', async (t) => {
  const built = await buildAws(t)
  const poller = built.provider.poller({ waitSeconds: 0, maxReceives: 3 })!
  built.fake.enqueue('q-1', envelope('m-1', 'entitlement-updated'))
  built.fake.fail('AWSMPEntitlementService.GetEntitlements', 'InternalServiceErrorException', 'InternalServiceErrorException', 'InternalServiceErrorException')
  t.same((await poller.runOnce()).retried, 1)
  t.same((await poller.runOnce()).retried, 1)
  t.same((await poller.runOnce()).parked, 1)
  t.equal(built.fake.queue[0]!.deleted, true)
  t.same(await poller.runOnce(), { received: 0, done: 0, retried: 0, parked: 0 }, 'no loop')
  const res = await built.app.inject({ method: 'GET', url: '/v1/aws/dead-messages', headers: built.auth })
  t.equal(res.statusCode, 200)
  const [dead] = res.json().data
  t.match(dead, { source: 'sqs', message_id: 'sqs:q-1', state: 'dead', attempts: 3, reason: 'InternalServiceErrorException' })
  t.equal((await built.app.inject({ method: 'GET', url: '/v1/aws/dead-messages' })).statusCode, 401)
})

t.test('a poison message (not JSON, not a marketplace message) is parked at once', async (t) => {
  const built = await buildAws(t)
  const poller = built.provider.poller({ waitSeconds: 0 })!
  built.fake.enqueue('q-1', 'not json at all')
  built.fake.enqueue('q-2', { hello: 'world' })
  t.same(await poller.runOnce(), { received: 2, done: 0, retried: 0, parked: 2 })
  const rows = await built.services.db.selectFrom('parked_messages').select(['message_id', 'state']).orderBy('message_id').execute()
  t.same(rows, [{ message_id: 'sqs:q-1', state: 'dead' }, { message_id: 'sqs:q-2', state: 'dead' }])
})

t.test('reconciliation repairs drifted entitlements of contract accounts, one instance at a time', async (t) => {
  const built = await buildAws(t)
  const c = customer('concurrent')
  built.fake.tokens.set('tok', c)
  built.fake.entitlements.set(c.LicenseArn!, [{ Dimension: 'small', Value: { IntegerValue: 1 } }])
  await postRegister(built.app, 'tok')
  // A subscription-only account (no entitlements) is not a contract account: never asked about.
  built.fake.tokens.set('tok2', customer('legacy', 2))
  await postRegister(built.app, 'tok2')

  built.fake.entitlements.set(c.LicenseArn!, [{ Dimension: 'large', Value: { IntegerValue: 1 } }])
  built.fake.requests.length = 0
  const a = built.provider.reconciler('instance-a', 60_000)
  const b = built.provider.reconciler('instance-b', 60_000)
  t.same(await a.runOnce(), { ran: true, checked: 1, repaired: 1 })
  t.same(await b.runOnce(), { ran: false, checked: 0, repaired: 0 }, 'the other instance waits for the lease')
  t.equal(built.fake.calls('AWSMPEntitlementService.GetEntitlements').length, 1)
  const row = (await accountRows(built)).find((r) => r.external_id === c.LicenseArn)!
  t.equal(row.plan, 'large')
  t.same(row.entitlements, [{ dimension: 'large', value: 1, expiresAt: null }])

  built.clock.advance(60_001)
  t.same(await b.runOnce(), { ran: true, checked: 1, repaired: 0 }, 'after the lease, the other runs; nothing drifted')
})
