import { createPublicKey, createVerify, type KeyObject } from 'node:crypto'
import type { Clock } from '../../core/index.js'

/** An SNS message as posted to an HTTPS endpoint (or wrapped in an SQS body). */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation'
  MessageId: string
  TopicArn: string
  Message: string
  Timestamp: string
  SignatureVersion: string
  Signature: string
  SigningCertURL: string
  Subject?: string | null
  SubscribeURL?: string
  Token?: string
  UnsubscribeURL?: string
}

/** `transient`: our side could not check (certificate fetch failed); SNS should retry. */
export type SnsCheck = { ok: true, message: SnsMessage } | { ok: false, reason: string, transient?: boolean }

/** Fetches a PEM certificate: an HTTPS GET in production, a stub in tests. */
export type CertFetcher = (url: string) => Promise<string>

const notificationKeys = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const
const confirmationKeys = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const
const algorithms: Record<string, string> = { 1: 'RSA-SHA1', 2: 'RSA-SHA256' }
const maxAgeMs = 3600_000
const maxSkewMs = 15 * 60_000

// Region names only (us-east-1, us-gov-west-1, cn-north-1): a looser `sns\.[\w-]+` would
// also admit names like sns.s3-<region>.amazonaws.com, which are not SNS.
const snsHost = /^sns\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\.amazonaws\.com(\.cn)?$/

/** True for an https URL on an SNS regional host, default port, no credentials; `pem` also wants a .pem path. */
export function isSnsUrl (raw: string, pem: boolean): boolean {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  if (url.protocol !== 'https:' || url.port !== '' || url.username !== '' || url.password !== '') return false
  if (!snsHost.test(url.hostname)) return false
  return !pem || url.pathname.endsWith('.pem')
}

/** The exact string SNS signs: `Key\nvalue\n` for each present key, in the type's fixed order. */
export function stringToSign (m: SnsMessage): string {
  const keys = m.Type === 'Notification' ? notificationKeys : confirmationKeys
  let out = ''
  for (const key of keys) {
    const value = m[key]
    if (value === undefined || value === null) continue
    out += `${key}\n${value}\n`
  }
  return out
}

/**
 * Verifies SNS messages: shape, TopicArn allow-list, Timestamp (at most an hour old, at most 15
 * minutes ahead of the injected clock), certificate URL, then the RSA signature
 * (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA). Public keys are cached per URL for an
 * hour, at most 50 of them, so a flood of messages costs one fetch per certificate.
 */
export function createSnsVerifier (deps: { fetchCert: CertFetcher, topicArns: string[], clock: Clock, cacheTtlMs?: number }) {
  const cache = new Map<string, { key: KeyObject, expires: number }>()
  const ttl = deps.cacheTtlMs ?? 3600_000

  async function publicKey (url: string): Promise<KeyObject> {
    const now = deps.clock.now().getTime()
    const hit = cache.get(url)
    if (hit && hit.expires > now) return hit.key
    const key = createPublicKey(await deps.fetchCert(url))
    if (cache.size >= 50) cache.delete(cache.keys().next().value!)
    cache.set(url, { key, expires: now + ttl })
    return key
  }

  return {
    async verify (body: unknown): Promise<SnsCheck> {
      const m = body as Partial<SnsMessage> | null
      if (m === null || typeof m !== 'object') return { ok: false, reason: 'not an SNS message' }
      for (const k of ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const) {
        if (typeof m[k] !== 'string') return { ok: false, reason: `missing ${k}` }
      }
      if (!['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'].includes(m.Type!)) return { ok: false, reason: 'unknown Type' }
      if (m.Type !== 'Notification' && (typeof m.SubscribeURL !== 'string' || typeof m.Token !== 'string')) return { ok: false, reason: 'missing SubscribeURL or Token' }
      if (!deps.topicArns.includes(m.TopicArn!)) return { ok: false, reason: 'topic not allowed' }
      const age = deps.clock.now().getTime() - Date.parse(m.Timestamp!)
      // A captured message replayed later is refused: SNS retries an HTTPS endpoint for at most
      // an hour, and 15 minutes ahead leaves room for clock skew.
      if (!(age <= maxAgeMs && age >= -maxSkewMs)) return { ok: false, reason: 'Timestamp outside the accepted window' }
      const algorithm = algorithms[m.SignatureVersion!]
      if (algorithm === undefined) return { ok: false, reason: 'unsupported SignatureVersion' }
      if (!isSnsUrl(m.SigningCertURL!, true)) return { ok: false, reason: 'certificate URL not on an SNS host' }
      let key: KeyObject
      try {
        key = await publicKey(m.SigningCertURL!)
      } catch {
        return { ok: false, reason: 'certificate unavailable', transient: true }
      }
      const message = m as SnsMessage
      const valid = createVerify(algorithm).update(stringToSign(message), 'utf8').verify(key, m.Signature!, 'base64')
      return valid ? { ok: true, message } : { ok: false, reason: 'bad signature' }
    }
  }
}
