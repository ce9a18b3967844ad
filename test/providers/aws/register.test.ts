import t from 'tap'
import { createAwsFromServices } from '../../../src/aws.wiring.js'
import { createSecretBox } from '../../../src/crypto/secret-box.js'
import { testSecretKey } from '../../helpers/build.js'
import { accountRows, buildAws, customer, eventTypes, loginUrl, postRegister, productCode, snsNotification, postSns } from './helpers.js'

const token = 'tok+/=secret-registration-token'

t.test('legacy registration: resolves the token, keeps a pending account keyed by CustomerIdentifier, 303 to the login URL with a ticket and a cookie', async (t) => {
  const built = await buildAws(t)
  built.fake.tokens.set(token, customer('legacy'))
  const res = await postRegister(built.app, token, '&x-amzn-marketplace-offer-type=free-trial')
  t.equal(res.statusCode, 303)
  t.match(res.headers.location, new RegExp(`^${loginUrl}\\?ticket=mgt_`))
  t.match(String(res.headers['set-cookie']), /marketgate_session=.+HttpOnly/)
  t.same(built.fake.calls('AWSMPMeteringService.ResolveCustomer').map((c) => c.body), [{ RegistrationToken: token }])
  const [row] = await accountRows(built)
  t.equal(row!.external_id, 'cust-1')
  t.equal(row!.status, 'pending')
  t.equal(row!.customer_account_id, '123456789011')
  t.match(row!.metadata, { customerIdentifier: 'cust-1', productCode, freeTrial: true })
  t.same(await eventTypes(built), ['account.pending', 'account.login'])
  const ticket = new URL(res.headers.location!).searchParams.get('ticket')!
  t.equal(built.handoff.tickets.get(ticket)?.accountId, row!.id)
})

t.test('concurrent-agreements registration keys the account by LicenseArn and reads contract entitlements', async (t) => {
  const built = await buildAws(t, { AWS_PLAN_DIMENSIONS: 'enterprise=Enterprise,basic=Basic' })
  const c = customer('concurrent')
  built.fake.tokens.set(token, c)
  built.fake.entitlements.set(c.LicenseArn!, [
    { Dimension: 'basic', Value: { IntegerValue: 1 }, ProductCode: productCode, ExpirationDate: 1830297600 },
    { Dimension: 'enterprise', Value: { BooleanValue: true }, ProductCode: productCode }
  ])
  const res = await postRegister(built.app, token)
  t.equal(res.statusCode, 303)
  const [row] = await accountRows(built)
  t.equal(row!.external_id, c.LicenseArn)
  t.equal(row!.customer_account_id, c.CustomerAWSAccountId)
  t.equal(row!.status, 'pending')
  t.equal(row!.plan, 'Enterprise')
  t.same(row!.entitlements, [
    { dimension: 'basic', value: 1, expiresAt: '2028-01-01T00:00:00.000Z' },
    { dimension: 'enterprise', value: true, expiresAt: null }
  ])
  t.match(row!.metadata, { licenseArn: c.LicenseArn, licenseId: 'l-1abc', contract: true, freeTrial: false })
  t.same(built.fake.calls('AWSMPEntitlementService.GetEntitlements')[0]!.body,
    { ProductCode: productCode, Filter: { LICENSE_ARN: [c.LicenseArn] }, MaxResults: 25 })
  // One change: the new account is pending with its plan already set, then hears its entitlements.
  t.same(await eventTypes(built), ['account.pending', 'account.entitlements_updated', 'account.login'])
})

t.test('a contract registration is one change: an instance dying after its first write leaves all or nothing', async (t) => {
  const built = await buildAws(t)
  const c = customer('concurrent')
  built.fake.tokens.set(token, c)
  built.fake.entitlements.set(c.LicenseArn!, [{ Dimension: 'basic', Value: { IntegerValue: 1 } }])
  const real = built.services.lifecycle
  let writes = 0
  const lifecycle: typeof real = {
    async execute (target, command, options) {
      if (++writes > 1) throw new Error('the instance died')
      return real.execute(target, command, options)
    }
  }
  const aws = createAwsFromServices({ ...built.services, lifecycle }, { clients: { maxAttempts: 1 } })
  const account = await aws.register(token, undefined)
  t.equal(writes, 1)
  const [row] = await accountRows(built)
  t.equal(row!.id, account.id)
  t.same(row!.entitlements, [{ dimension: 'basic', value: 1, expiresAt: null }])
  t.equal(row!.metadata.contract, true, 'reconciliation will watch it')
  t.equal(row!.plan, 'basic')
})

t.test('a double-submitted token resumes the same registration without asking AWS again', async (t) => {
  const built = await buildAws(t)
  built.fake.tokens.set(token, customer('legacy'))
  const first = await postRegister(built.app, token)
  // AWS refuses re-used tokens; the gateway must not need it to accept this one twice.
  built.fake.tokens.set(token, { error: 'ExpiredTokenException' })
  const second = await postRegister(built.app, token)
  t.equal(first.statusCode, 303)
  t.equal(second.statusCode, 303)
  t.not(first.headers.location, second.headers.location, 'each submit gets its own one-time ticket')
  t.equal(built.fake.calls('AWSMPMeteringService.ResolveCustomer').length, 1)
  const rows = await accountRows(built)
  t.equal(rows.length, 1)
  // The token's digest is kept as a message id, not in metadata that /v1 and webhooks show.
  const digest = built.services.secrets.digest(`aws-registration:${token}`)
  t.notOk(JSON.stringify(rows[0]!.metadata).includes(digest), 'not in metadata')
  const deliveries = await built.services.db.selectFrom('account_events').select('data').execute()
  t.notOk(JSON.stringify(deliveries).includes(digest), 'not in events')
  const api = await built.app.inject({ method: 'GET', url: `/v1/accounts/${rows[0]!.id}`, headers: built.auth })
  t.notOk(api.body.includes(digest), 'not in /v1')
  t.equal((await built.services.db.selectFrom('inbound_messages').where('message_id', '=', `register:${digest}`).selectAll().execute()).length, 1)
})

t.test('during a key rotation, a token first submitted under the previous key still resumes its registration', async (t) => {
  const built = await buildAws(t)
  built.fake.tokens.set(token, customer('legacy'))
  t.equal((await postRegister(built.app, token)).statusCode, 303)
  built.fake.tokens.set(token, { error: 'ExpiredTokenException' })
  // The same data seen by an instance with a new key and the old one as MARKETGATE_SECRET_KEY_PREVIOUS.
  const secrets = createSecretBox('a-new-secret-key-0123456789-0123456789-xyz', testSecretKey)
  const rotated = createAwsFromServices({ ...built.services, secrets }, { clients: { maxAttempts: 1 } })
  t.teardown(() => rotated.close())
  const account = await rotated.register(token, undefined)
  t.equal(built.fake.calls('AWSMPMeteringService.ResolveCustomer').length, 1, 'AWS was not asked again')
  t.equal(account.id, (await accountRows(built))[0]!.id)
})

t.test('registration after subscribe-success keeps the account active', async (t) => {
  const built = await buildAws(t)
  t.equal((await postSns(built.app, snsNotification('m-1', { action: 'subscribe-success', 'customer-identifier': 'cust-1' }))).statusCode, 200)
  built.fake.tokens.set(token, customer('legacy'))
  t.equal((await postRegister(built.app, token)).statusCode, 303)
  const rows = await accountRows(built)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.status, 'active')
  t.equal(rows[0]!.customer_account_id, '123456789011')
})

const failures: Array<[string, string | undefined, number, RegExp]> = [
  ['an invalid token', 'InvalidTokenException', 400, /not valid/],
  ['an expired token', 'ExpiredTokenException', 400, /expired/],
  ['throttling', 'ThrottlingException', 503, /slow down/],
  ['an AWS outage', 'InternalServiceErrorException', 503, /could not reach AWS/],
  ['a disabled API', 'DisabledApiException', 503, /could not reach AWS/]
]
for (const [what, awsError, status, text] of failures) {
  t.test(`${what} gets a ${status} page, a log line with the AWS request id, and no account`, async (t) => {
    const built = await buildAws(t)
    built.fake.tokens.set(token, { error: awsError! })
    const res = await postRegister(built.app, token)
    t.equal(res.statusCode, status)
    t.match(res.headers['content-type'], /text\/html/)
    t.match(res.body, text)
    t.equal((await accountRows(built)).length, 0)
    const line = built.logs.find((l) => l.includes('aws registration stopped'))
    t.match(line, new RegExp(`"awsError":"${awsError}"`))
    t.match(line, /"awsRequestId":"req-\d+"/)
  })
}

t.test('a token for another product is a 400 page and creates nothing', async (t) => {
  const built = await buildAws(t)
  built.fake.tokens.set(token, { ...customer('legacy'), ProductCode: 'someone-else' })
  const res = await postRegister(built.app, token)
  t.equal(res.statusCode, 400)
  t.match(res.body, /different AWS Marketplace product/)
  t.equal((await accountRows(built)).length, 0)
})

t.test('a form without a token is a 400 page; a GET explains where to start', async (t) => {
  const built = await buildAws(t)
  const res = await built.app.inject({ method: 'POST', url: '/aws/register', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'foo=bar' })
  t.equal(res.statusCode, 400)
  t.match(res.body, /Set up your account/)
  t.equal((await built.app.inject({ method: 'GET', url: '/aws/register' })).statusCode, 400)
})

t.test('the raw token never reaches a log line, a URL or a cookie, on success or failure', async (t) => {
  const built = await buildAws(t, { MARKETGATE_LOG_LEVEL: 'debug' })
  built.fake.tokens.set(token, customer('legacy'))
  const ok = await postRegister(built.app, token)
  const bad = await postRegister(built.app, 'another+secret/token=')
  t.equal(bad.statusCode, 400)
  for (const secret of [token, encodeURIComponent(token), 'another+secret/token=', encodeURIComponent('another+secret/token=')]) {
    t.notOk(built.logs.some((l) => l.includes(secret)), 'not in logs')
    t.notOk(String(ok.headers.location).includes(secret), 'not in the redirect')
    t.notOk(String(ok.headers['set-cookie']).includes(secret), 'not in a cookie')
  }
  t.ok(built.logs.length > 0)
})

t.test('a cancelled subscription registering again sees a 410 page', async (t) => {
  const built = await buildAws(t)
  built.fake.tokens.set(token, customer('legacy'))
  await postSns(built.app, snsNotification('m-1', { action: 'unsubscribe-success', 'customer-identifier': 'cust-1' }))
  const res = await postRegister(built.app, token)
  t.equal(res.statusCode, 410)
  t.equal((await accountRows(built))[0]!.status, 'cancelled')
})

t.test('a registration racing a legacy message for the same customer ends with one account', async (t) => {
  const built = await buildAws(t)
  const c = { ...customer('concurrent'), CustomerIdentifier: 'cust-1' }
  built.fake.tokens.set(token, c)
  // After the registration looked the customer up (nothing yet) and before it writes, the legacy
  // subscribe-success creates the account keyed by the CustomerIdentifier.
  built.fake.beforeReply = {
    target: 'AWSMPEntitlementService.GetEntitlements',
    run: async () => { t.equal((await postSns(built.app, snsNotification('m-1', { action: 'subscribe-success', 'customer-identifier': 'cust-1' }))).statusCode, 200) }
  }
  t.equal((await postRegister(built.app, token)).statusCode, 303)
  const rows = await accountRows(built)
  t.equal(rows.length, 1, 'one account')
  t.equal(rows[0]!.external_id, 'cust-1', 'the first writer keeps its key')
  t.equal(rows[0]!.status, 'active')
  t.equal(rows[0]!.metadata.licenseArn, c.LicenseArn)
  t.equal(rows[0]!.customer_account_id, c.CustomerAWSAccountId)
})

t.test('a legacy message racing a registration for the same customer ends with one account', async (t) => {
  const built = await buildAws(t)
  const c = { ...customer('concurrent'), CustomerIdentifier: 'cust-1' }
  built.fake.tokens.set(token, c)
  // The message looked up cust-1 (nothing), then asks AWS for entitlements; meanwhile the buyer registers.
  built.fake.beforeReply = {
    target: 'AWSMPEntitlementService.GetEntitlements',
    run: async () => { t.equal((await postRegister(built.app, token)).statusCode, 303) }
  }
  t.equal((await postSns(built.app, snsNotification('m-1', { action: 'entitlement-updated', 'customer-identifier': 'cust-1' }))).statusCode, 200)
  const rows = await accountRows(built)
  t.equal(rows.length, 1, 'one account')
  t.equal(rows[0]!.external_id, c.LicenseArn)
  t.equal(rows[0]!.metadata.customerIdentifier, 'cust-1')
  t.equal(rows[0]!.metadata.contract, true, 'the message applied to that account')
  t.equal((await built.services.db.selectFrom('inbound_messages').where('message_id', '=', 'sns:m-1').selectAll().execute()).length, 1)
})
