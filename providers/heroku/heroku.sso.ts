import { createHash } from 'node:crypto'
import { constantTimeEqual } from './heroku.auth.js'

/** Heroku signs SSO requests at most this long ago (kensa rejects a 6-minute-old one). */
export const maxTokenAgeSeconds = 5 * 60
/** Clock skew tolerated for timestamps from the future. */
export const maxTokenLeadSeconds = 60

/** The signed fields of one SSO request, from the form POST or the legacy GET. */
export interface SsoClaim {
  resourceId: string
  timestamp: string
  /** v1 `token` and v3 `resource_token`: sha1(id:salt:timestamp). */
  tokens: string[]
  /** v3 `user_scoped_resource_token`: sha256(uuid:salt:timestamp:user_id:email). */
  userScopedToken?: string
  userId?: string
  email?: string
}

export type SsoVerdict = { ok: true } | { ok: false, reason: string }

/** sha1(id:salt:timestamp), lower-case hex: the v1 `token` and the v3 `resource_token`. */
export function resourceToken (id: string, salt: string, timestamp: string): string {
  return createHash('sha1').update(`${id}:${salt}:${timestamp}`).digest('hex')
}

/** sha256(uuid:salt:timestamp:user_id:email), lower-case hex: the v3 user-scoped token. */
export function userScopedResourceToken (uuid: string, salt: string, timestamp: string, userId: string, email: string): string {
  return createHash('sha256').update(`${uuid}:${salt}:${timestamp}:${userId}:${email}`).digest('hex')
}

/**
 * Checks an SSO claim against the salt at `now`. A user-scoped token, when present, must be
 * valid: it is the only one that vouches for the email and user id, so we never fall back to
 * the sha1 token then (a tampered email would pass it). Otherwise every sha1 token given must
 * be valid, and there must be one.
 */
export function verifySsoClaim (claim: SsoClaim, salt: string, now: Date): SsoVerdict {
  if (!/^\d{1,12}$/.test(claim.timestamp)) return { ok: false, reason: 'the timestamp is not a number of seconds' }
  const skew = Math.floor(now.getTime() / 1000) - Number(claim.timestamp)
  if (skew > maxTokenAgeSeconds) return { ok: false, reason: 'the sign-in link has expired' }
  if (-skew > maxTokenLeadSeconds) return { ok: false, reason: 'the sign-in timestamp is in the future' }

  if (claim.userScopedToken !== undefined) {
    const expected = userScopedResourceToken(claim.resourceId, salt, claim.timestamp, claim.userId ?? '', claim.email ?? '')
    return constantTimeEqual(claim.userScopedToken.toLowerCase(), expected) ? { ok: true } : { ok: false, reason: 'the sign-in token is not valid' }
  }
  if (claim.tokens.length === 0) return { ok: false, reason: 'the sign-in token is missing' }
  const expected = resourceToken(claim.resourceId, salt, claim.timestamp)
  const allValid = claim.tokens.map((t) => constantTimeEqual(t.toLowerCase(), expected)).every(Boolean)
  return allValid ? { ok: true } : { ok: false, reason: 'the sign-in token is not valid' }
}

/** Who signed in, as far as a verified token vouches for it: nulls when no token signs the user. */
export interface SsoIdentity {
  userId: string | null
  email: string | null
  /** True only under a valid user-scoped token, the one token that signs the user id and email. */
}

export type SignInVerdict = { ok: true, identity: SsoIdentity, linkId: string } | { ok: false, reason: string }

/**
 * One sign-in link's id for the replay guard, made only of fields every token signs (resource
 * id and timestamp; Heroku makes a new timestamp for every click). Unsigned fields (email,
 * user id without the user-scoped token, app, nav-data) stay out of it, so changing them
 * cannot turn a used link into a "fresh" one. No secret in it.
 */
export function ssoLinkId (claim: Pick<SsoClaim, 'resourceId' | 'timestamp'>): string {
  return `sso:${createHash('sha256').update(JSON.stringify([claim.resourceId, claim.timestamp])).digest('base64url')}`
}

/**
 * Verifies a claim (verifySsoClaim) and returns only what its token signs: the user id and
 * email under a valid user-scoped token; none under the sha1 token, which signs the resource
 * id and timestamp alone, so the form's `email` and `user_id` are then anyone's to write and
 * are not believed.
 */
export function verifySignIn (claim: SsoClaim, salt: string, now: Date): SignInVerdict {
  const verdict = verifySsoClaim(claim, salt, now)
  if (!verdict.ok) return verdict
  const identity: SsoIdentity = claim.userScopedToken !== undefined
    ? { userId: nonEmpty(claim.userId), email: nonEmpty(claim.email) }
    : { userId: null, email: null }
  return { ok: true, identity, linkId: ssoLinkId(claim) }
}

const nonEmpty = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v)
