import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** Seals as the gateway did before key ids (`v1.<iv>.<body>`): databases from then hold these. */
export function sealV1 (secret: string, plaintext: string): string {
  const key = Buffer.from(hkdfSync('sha256', secret, 'marketgate', 'secrets-at-rest', 32))
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
  return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`
}
