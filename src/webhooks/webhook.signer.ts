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
    'webhook-signature': secrets.map((s) => signer(s).sign(msgId, at, body)).join(' ')
  }
}

// A Webhook decodes its secret when made; a busy worker signs for the same few endpoints
// over and over, so the signers of recently used secrets are kept (a few dozen at most).
const signers = new Map<string, Webhook>()
function signer (secret: string): Webhook {
  let w = signers.get(secret)
  if (w === undefined) {
    if (signers.size >= 64) signers.clear()
    w = new Webhook(secret)
    signers.set(secret, w)
  }
  return w
}

/**
 * `open` of a SecretBox that remembers what it opened (a few dozen sealed values at most):
 * every delivery to an endpoint carries the same sealed secret. The process holds the key
 * that opens them anyway, so keeping a few opened in memory exposes nothing new.
 */
export function rememberingOpener (box: { open(sealed: string): string }, max = 64): { open(sealed: string): string } {
  const opened = new Map<string, string>()
  return {
    open (sealed) {
      let clear = opened.get(sealed)
      if (clear === undefined) {
        if (opened.size >= max) opened.clear()
        clear = box.open(sealed)
        opened.set(sealed, clear)
      }
      return clear
    }
  }
}
