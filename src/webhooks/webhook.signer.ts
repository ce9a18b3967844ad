import { Webhook } from 'standardwebhooks'
import type { Random } from '../../core/index.js'

/**
 * Standard Webhooks signing. A secret is `whsec_` + base64 of 32 random bytes (the spec
 * allows 24–64). `webhook-timestamp` is this attempt's time, so every retry is signed afresh
 * and passes a receiver's ±5 min window; `webhook-id` is the event id, the same on every retry.
 */
export function generateSecret (random: Random): string {
  return `whsec_${Buffer.from(random.bytes(32)).toString('base64')}`
}

/**
 * The signing headers for one attempt. With several secrets (during a rotation: the new one
 * first, then the old) the header carries one `v1,…` per secret separated by spaces, and a
 * receiver holding either secret verifies it.
 */
export function signatureHeaders (msgId: string, at: Date, body: string, secrets: readonly string[]): Record<string, string> {
  if (secrets.length === 0) throw new Error('no signing secret')
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(msgId, at, body)).join(' ')
  }
}
