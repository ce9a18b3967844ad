import { createHmac, createSign, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tap from 'tap'
import type { Account, LoginHandoff, LoginUser } from '../../../core/index.js'
import { createAwsFromServices } from '../../../src/aws.wiring.js'
import { AwsFake } from '../../fakes/aws-fake.js'
import { build, type Built } from '../../helpers/build.js'
import { FakeClock } from '../../helpers/clock.js'

export const productCode = 'prod-abc123'
export const topicArn = `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${productCode}`
export const entitlementTopicArn = `arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-${productCode}`
export const certUrl = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem'
export const eventsSecret = 'events-secret-0123456789abcdef'
export const loginUrl = 'https://vendor.test/login'

let fake: AwsFake | undefined

/**
 * The file's fake AWS, started once and reset per test. The SDK finds it the way operators
 * point it elsewhere: AWS_ENDPOINT_URL and the default credential chain's env variables.
 */
export async function awsFake (): Promise<AwsFake> {
  if (fake === undefined) {
    fake = await new AwsFake().start()
    tap.teardown(() => fake!.stop())
    process.env.AWS_ENDPOINT_URL = fake.url
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST'
    process.env.AWS_SECRET_ACCESS_KEY = 'test-secret'
  }
  fake.reset()
  return fake
}

/** A self-signed certificate and its key, made once per file with openssl. */
export const signing = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-sns-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' })
  const result = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  rmSync(dir, { recursive: true })
  return result
})()

/** A login handoff small but real: one-time tickets in memory and an HMAC-signed cookie. */
export function testLoginHandoff (): LoginHandoff & { tickets: Map<string, { accountId: string, user: LoginUser }> } {
  const tickets = new Map<string, { accountId: string, user: LoginUser }>()
  const key = randomBytes(32)
  return {
    tickets,
    async begin (account: Account, user: LoginUser) {
      const ticket = `mgt_${randomBytes(24).toString('base64url')}`
      tickets.set(ticket, { accountId: account.id, user })
      const value = `${account.id}.${createHmac('sha256', key).update(account.id).digest('base64url')}`
      return {
        location: `${loginUrl}?ticket=${ticket}`,
        cookies: [{ name: 'marketgate_session', value, options: { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: true } }]
      }
    }
  }
}

export interface AwsBuilt extends Built {
  fake: AwsFake
  handoff: ReturnType<typeof testLoginHandoff>
  certFetches: string[]
  confirmed: string[]
  provider: ReturnType<typeof createAwsFromServices>
}

/** The real app with AWS on, its clients on the fake, SNS certificates and confirmations stubbed. */
export async function buildAws (t: Parameters<typeof build>[0], env: Record<string, string> = {}): Promise<AwsBuilt> {
  const f = await awsFake()
  const handoff = testLoginHandoff()
  const certFetches: string[] = []
  const confirmed: string[] = []
  const overrides = {
    clients: { maxAttempts: 1 },
    fetchCert: async (url: string) => { certFetches.push(url); return signing.cert },
    fetchUrl: async (url: string) => { confirmed.push(url) },
    loginHandoff: handoff
  }
  const built = await build(t, {
    AWS_MARKETPLACE_PRODUCT_CODE: productCode,
    AWS_EVENTS_SECRET: eventsSecret,
    AWS_SQS_QUEUE_URL: `${f.url}/123456789012/marketplace`,
    ...env
  }, { providers: { aws: overrides } })
  const provider = createAwsFromServices(built.services, overrides)
  return { ...built, fake: f, handoff, certFetches, confirmed, provider }
}

/** When test messages are signed: the FakeClock's start, so the verifier finds them fresh. */
export const signedAt = new FakeClock().now().toISOString()

/** Signs an SNS message the way SNS does, with the test certificate's key. */
export function signSns (fields: Record<string, string>, version: '1' | '2' = '1'): Record<string, string> {
  const m: Record<string, string> = { SignatureVersion: version, SigningCertURL: certUrl, Timestamp: signedAt, ...fields }
  const keys = m.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type']
  const text = keys.filter((k) => m[k] !== undefined).map((k) => `${k}\n${m[k]}\n`).join('')
  m.Signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256').update(text).sign(signing.key, 'base64')
  return m
}

/** An SNS Notification carrying a marketplace message. */
export function snsNotification (messageId: string, body: Record<string, string>, version: '1' | '2' = '1', topic = topicArn) {
  return signSns({ Type: 'Notification', MessageId: messageId, TopicArn: topic, Message: JSON.stringify({ 'product-code': productCode, ...body }) }, version)
}

export const postSns = (app: Built['app'], message: unknown) =>
  app.inject({ method: 'POST', url: '/aws/sns', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(message) })

/** A customer AWS will resolve: legacy (CustomerIdentifier) or Concurrent Agreements (LicenseArn). */
export function customer (mode: 'legacy' | 'concurrent', n = 1) {
  const accountId = `12345678901${n}`
  return mode === 'legacy'
    ? { CustomerIdentifier: `cust-${n}`, CustomerAWSAccountId: accountId, ProductCode: productCode }
    : { CustomerAWSAccountId: accountId, ProductCode: productCode, LicenseArn: `arn:aws:license-manager::${accountId}:license:l-${n}abc` }
}

export const postRegister = (app: Built['app'], token: string, extra = '') =>
  app.inject({
    method: 'POST', url: '/aws/register', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `x-amzn-marketplace-token=${encodeURIComponent(token)}${extra}`
  })

export async function accountRows (built: Built) {
  return built.services.db.selectFrom('accounts').selectAll().orderBy('id').execute()
}

export async function eventTypes (built: Built) {
  return (await built.services.db.selectFrom('account_events').select('type').orderBy('id').execute()).map((e) => e.type)
}
