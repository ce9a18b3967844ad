import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Encrypts secrets at rest (webhook secrets, API keys, OAuth tokens, job secrets) with
 * AES-256-GCM under a key derived (HKDF-SHA256) from MARKETGATE_SECRET_KEY. Node's own crypto
 * is the right tool: no library adds anything here.
 *
 * Format: `v2.<key id>.<iv>.<ciphertext+tag>` (base64url), where the key id is a 64-bit HKDF
 * output of the key (it says which key sealed a value, so a rotation finds what is left to
 * re-seal with one SQL filter, and revealing it reveals nothing of the key). Values of the
 * older `v1.<iv>.<ciphertext+tag>` format still open: each key is tried in turn.
 *
 * With a previous key (MARKETGATE_SECRET_KEY_PREVIOUS, during a rotation) values sealed, digested
 * or signed under it still open and verify; everything new is made under the current key.
 */
export interface SecretBox {
  seal(plaintext: string): string
  open(sealed: string): string
  /** Which key opens `sealed`, or undefined when neither does (or it is no sealed value). */
  sealedUnder(sealed: string): 'current' | 'previous' | undefined
  /** True when `sealed` is sealed under the current key: nothing left for a rotation to do. */
  isCurrent(sealed: string): boolean
  /** The text every value sealed under the current key starts with (`v2.<key id>.`). */
  readonly currentPrefix: string
  /** True when a previous key is held (a rotation is under way). */
  readonly hasPrevious: boolean
  /** A keyed digest for looking a secret up by value without storing it in clear. */
  digest(value: string): string
  /** The digests a lookup must accept: under the current key, then under the previous one. */
  digests(value: string): string[]
  /** HMAC-SHA256 key for a purpose (signed tickets and cookies), under the current key. */
  subkey(purpose: string): Buffer
  /** The subkeys a signature may verify under: the current key's, then the previous key's. */
  subkeys(purpose: string): Buffer[]
}

interface Key { id: string, aes: Buffer, digest: Buffer, secret: string }

function deriveKey (secret: string): Key {
  const derive = (info: string, length: number): Buffer => Buffer.from(hkdfSync('sha256', secret, 'marketgate', info, length))
  // Hex, so the prefix is safe inside a SQL LIKE pattern.
  return { id: derive('key-id', 8).toString('hex'), aes: derive('secrets-at-rest', 32), digest: derive('lookup-digest', 32), secret }
}

function decrypt (key: Key, ivText: string, bodyText: string): string {
  const body = Buffer.from(bodyText, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key.aes, Buffer.from(ivText, 'base64url'))
  decipher.setAuthTag(body.subarray(body.length - 16))
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8')
}

/** Opens `sealed` under the first of `keys` that sealed it; throws when none did. */
function openWith (keys: Key[], sealed: string): { plaintext: string, key: Key } {
  const parts = sealed.split('.')
  if (parts[0] === 'v2' && parts.length === 4 && parts[2] && parts[3]) {
    const key = keys.find((k) => k.id === parts[1])
    if (key === undefined) throw new Error('sealed under a key this gateway does not hold')
    return { plaintext: decrypt(key, parts[2], parts[3]), key }
  }
  if (parts[0] === 'v1' && parts.length === 3 && parts[1] && parts[2]) {
    // No key id in v1: the GCM tag tells the right key from a wrong one.
    let failure: unknown
    for (const key of keys) {
      try {
        return { plaintext: decrypt(key, parts[1], parts[2]), key }
      } catch (err) {
        failure = err
      }
    }
    throw failure
  }
  throw new Error('not a sealed secret')
}

export function createSecretBox (secret: string, previous?: string): SecretBox {
  const current = deriveKey(secret)
  const keys = previous === undefined || previous === secret ? [current] : [current, deriveKey(previous)]
  const currentPrefix = `v2.${current.id}.`
  const digestUnder = (key: Key, value: string): string => createHash('sha256').update(key.digest).update(value).digest('hex')

  return {
    currentPrefix,
    hasPrevious: keys.length > 1,
    seal (plaintext) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', current.aes, iv)
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return `${currentPrefix}${iv.toString('base64url')}.${body.toString('base64url')}`
    },
    open (sealed) {
      return openWith(keys, sealed).plaintext
    },
    sealedUnder (sealed) {
      try {
        return openWith(keys, sealed).key === current ? 'current' : 'previous'
      } catch {
        return undefined
      }
    },
    isCurrent: (sealed) => sealed.startsWith(currentPrefix),
    digest: (value) => digestUnder(current, value),
    digests: (value) => keys.map((k) => digestUnder(k, value)),
    subkey: (purpose) => Buffer.from(hkdfSync('sha256', current.secret, 'marketgate', `subkey:${purpose}`, 32)),
    subkeys: (purpose) => keys.map((k) => Buffer.from(hkdfSync('sha256', k.secret, 'marketgate', `subkey:${purpose}`, 32)))
  }
}

/** Compares two secrets in constant time (hashing first so lengths leak nothing). */
export function safeEqual (a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}
