import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Encrypts secrets at rest (webhook secrets, API keys, OAuth tokens) with AES-256-GCM under a
 * key derived (HKDF-SHA256) from MARKETGATE_SECRET_KEY. Format: `v1.<iv>.<ciphertext+tag>`,
 * base64url. Node's own crypto is the right tool: no library adds anything here.
 */
export interface SecretBox {
  seal(plaintext: string): string
  open(sealed: string): string
  /** A keyed digest for looking a secret up by value without storing it in clear. */
  digest(value: string): string
  /** HMAC-SHA256 under a purpose-specific subkey (signed tickets and cookies). */
  subkey(purpose: string): Buffer
}

export function createSecretBox (secret: string): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', secret, 'marketgate', 'secrets-at-rest', 32))
  const digestKey = Buffer.from(hkdfSync('sha256', secret, 'marketgate', 'lookup-digest', 32))
  return {
    seal (plaintext) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`
    },
    open (sealed) {
      const [version, ivText, bodyText] = sealed.split('.')
      if (version !== 'v1' || !ivText || !bodyText) throw new Error('not a sealed secret')
      const body = Buffer.from(bodyText, 'base64url')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'))
      decipher.setAuthTag(body.subarray(body.length - 16))
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8')
    },
    digest (value) {
      return createHash('sha256').update(digestKey).update(value).digest('hex')
    },
    subkey (purpose) {
      return Buffer.from(hkdfSync('sha256', secret, 'marketgate', `subkey:${purpose}`, 32))
    }
  }
}

/** Compares two secrets in constant time (hashing first so lengths leak nothing). */
export function safeEqual (a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}
