import t from 'tap'
import { accountRows, buildAws, certUrl, entitlementTopicArn, eventTypes, postSns, signSns, snsNotification, topicArn } from './helpers.js'

const subscribe = { action: 'subscribe-success', 'customer-identifier': 'cust-1' }

for (const version of ['1', '2'] as const) {
  t.test(`a SignatureVersion ${version} notification is accepted and applied`, async (t) => {
    const built = await buildAws(t)
    const res = await postSns(built.app, snsNotification('m-1', subscribe, version))
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok' })
    const [row] = await accountRows(built)
    t.equal(row!.status, 'active')
    t.same(await eventTypes(built), ['account.provisioned'])
  })
}

t.test('a notification with a Subject is verified with the Subject in the string to sign', async (t) => {
  const built = await buildAws(t)
  const m = signSns({ Type: 'Notification', MessageId: 'm-s', TopicArn: topicArn, Subject: 'hello', Message: JSON.stringify(subscribe) }, '2')
  t.equal((await postSns(built.app, m)).statusCode, 200)
  t.equal((await accountRows(built)).length, 1)
})

const tamperings: Array<[string, (m: Record<string, string>) => Record<string, string>]> = [
  ['an altered Message', (m) => ({ ...m, Message: m.Message!.replace('subscribe-success', 'unsubscribe-success') })],
  ['an altered MessageId', (m) => ({ ...m, MessageId: 'm-other' })],
  ['an added Subject', (m) => ({ ...m, Subject: 'x' })],
  ['a forged signature', (m) => ({ ...m, Signature: Buffer.from('forged').toString('base64') })],
  ['a signature version downgrade', (m) => ({ ...m, SignatureVersion: '1' })],
  ['an unknown signature version', (m) => ({ ...m, SignatureVersion: '3' })],
  ['a certificate on a non-SNS host', (m) => ({ ...m, SigningCertURL: 'https://evil.example.com/cert.pem' })],
  ['a look-alike host', (m) => ({ ...m, SigningCertURL: 'https://sns.us-east-1.amazonaws.com.evil.io/cert.pem' })],
  ['an S3-style host', (m) => ({ ...m, SigningCertURL: 'https://sns.s3-us-east-1.amazonaws.com/cert.pem' })],
  ['a plain-http certificate URL', (m) => ({ ...m, SigningCertURL: certUrl.replace('https:', 'http:') })],
  ['a certificate URL not ending in .pem', (m) => ({ ...m, SigningCertURL: certUrl.replace('.pem', '.txt') })],
  ['a certificate URL with a port', (m) => ({ ...m, SigningCertURL: certUrl.replace('.com/', '.com:8443/') })],
  ['a topic outside the allow-list', (m) => ({ ...m, TopicArn: 'arn:aws:sns:us-east-1:111111111111:other' })],
  ['a missing Signature', (m) => { const { Signature: _s, ...rest } = m; return rest }]
]
for (const [what, tamper] of tamperings) {
  t.test(`${what} is rejected with 403 and changes nothing`, async (t) => {
    const built = await buildAws(t)
    const res = await postSns(built.app, tamper(snsNotification('m-1', subscribe, '2')))
    t.equal(res.statusCode, 403)
    t.equal(res.json().error.code, 'FORBIDDEN')
    t.equal((await accountRows(built)).length, 0)
    t.equal((await built.services.db.selectFrom('inbound_messages').selectAll().execute()).length, 0)
  })
}

t.test('bad certificate hosts are refused before anything is fetched', async (t) => {
  const built = await buildAws(t)
  await postSns(built.app, { ...snsNotification('m-1', subscribe), SigningCertURL: 'https://169.254.169.254/latest.pem' })
  t.same(built.certFetches, [])
})

t.test('the topic allow-list follows AWS_SNS_TOPIC_ARNS', async (t) => {
  const own = 'arn:aws:sns:us-east-1:999999999999:my-forwarder'
  const built = await buildAws(t, { AWS_SNS_TOPIC_ARNS: own })
  t.equal((await postSns(built.app, snsNotification('m-1', subscribe, '1', topicArn))).statusCode, 403)
  t.equal((await postSns(built.app, snsNotification('m-2', subscribe, '1', own))).statusCode, 200)
})

t.test('both default marketplace topics are accepted', async (t) => {
  const built = await buildAws(t)
  t.equal((await postSns(built.app, snsNotification('m-1', subscribe, '1', topicArn))).statusCode, 200)
  t.equal((await postSns(built.app, snsNotification('m-2', { action: 'entitlement-updated', 'customer-identifier': 'cust-1' }, '1', entitlementTopicArn))).statusCode, 200)
})

t.test('certificates are cached: many messages, one fetch', async (t) => {
  const built = await buildAws(t)
  for (let i = 0; i < 3; i++) await postSns(built.app, snsNotification(`m-${i}`, subscribe))
  t.same(built.certFetches, [certUrl])
})

t.test('a SubscriptionConfirmation is confirmed by fetching its SubscribeURL', async (t) => {
  const built = await buildAws(t)
  const subscribeUrl = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=abc`
  const m = signSns({ Type: 'SubscriptionConfirmation', MessageId: 'c-1', TopicArn: topicArn, Token: 'abc', SubscribeURL: subscribeUrl, Message: 'You have chosen to subscribe' })
  const res = await postSns(built.app, m)
  t.equal(res.statusCode, 200)
  t.same(built.confirmed, [subscribeUrl])
})

t.test('a SubscriptionConfirmation whose SubscribeURL is off SNS is refused and not fetched', async (t) => {
  const built = await buildAws(t)
  const m = signSns({ Type: 'SubscriptionConfirmation', MessageId: 'c-1', TopicArn: topicArn, Token: 'abc', SubscribeURL: 'https://internal.example/confirm', Message: 'x' })
  t.equal((await postSns(built.app, m)).statusCode, 403)
  t.same(built.confirmed, [])
})

t.test('an UnsubscribeConfirmation (Token in the string to sign) verifies and is only noted', async (t) => {
  const built = await buildAws(t)
  const m = signSns({ Type: 'UnsubscribeConfirmation', MessageId: 'u-1', TopicArn: topicArn, Token: 'abc', SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription', Message: 'unsubscribed' }, '2')
  const res = await postSns(built.app, m)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'noted' })
  t.same(built.confirmed, [])
})

t.test('a signed message with an unreadable body is acknowledged and changes nothing', async (t) => {
  const built = await buildAws(t)
  const m = signSns({ Type: 'Notification', MessageId: 'm-x', TopicArn: topicArn, Message: '{"action":"dance"}' })
  const res = await postSns(built.app, m)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
  t.equal((await accountRows(built)).length, 0)
})

const timestamps: Array<[string, number, number]> = [
  ['59 minutes old', -59 * 60_000, 200],
  ['just over an hour old', -3600_001, 403],
  ['14 minutes ahead', 14 * 60_000, 200],
  ['16 minutes ahead', 16 * 60_000, 403]
]
for (const [what, offset, status] of timestamps) {
  t.test(`a signed message ${what} by the gateway's clock answers ${status}`, async (t) => {
    const built = await buildAws(t)
    const at = new Date(built.clock.now().getTime() + offset).toISOString()
    const m = signSns({ Type: 'Notification', MessageId: 'm-t', TopicArn: topicArn, Timestamp: at, Message: JSON.stringify(subscribe) })
    t.equal((await postSns(built.app, m)).statusCode, status)
    t.equal((await accountRows(built)).length, status === 200 ? 1 : 0)
  })
}

t.test('a signed message replayed later than an hour is refused, though it verified before', async (t) => {
  const built = await buildAws(t)
  const m = snsNotification('m-1', subscribe)
  t.equal((await postSns(built.app, m)).statusCode, 200)
  built.clock.advance(3600_001)
  t.equal((await postSns(built.app, m)).statusCode, 403)
  t.equal((await postSns(built.app, { ...m, Timestamp: 'not a time' })).statusCode, 403)
})
