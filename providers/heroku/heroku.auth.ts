import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { MarketgateError } from '../../core/index.js'

/** Compares two secrets in constant time; hashing first makes unequal lengths leak nothing. */
export function constantTimeEqual (a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

/**
 * True when an Authorization header carries HTTP Basic credentials equal to the add-on id
 * and password. Both halves are always compared, so timing says nothing about which was wrong.
 */
export function basicAuthMatches (header: string | undefined, user: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : ''
  const colon = decoded.indexOf(':')
  const givenUser = colon === -1 ? '' : decoded.slice(0, colon)
  const givenPassword = colon === -1 ? '' : decoded.slice(colon + 1)
  const userOk = constantTimeEqual(givenUser, user)
  const passwordOk = constantTimeEqual(givenPassword, password)
  // An unset password never opens the door, even to an empty one.
  return match !== null && colon !== -1 && password !== '' && userOk && passwordOk
}

/**
 * The gateway's limiter of failed credential checks, found on the app (src/http/auth-limiter.ts
 * decorates it as `authLimiter`). `check` throws RATE_LIMITED (429, Retry-After set) for an
 * address over its budget; `fail` counts one failure. Absent when the plugin runs on its own.
 */
export interface CredentialAttempts {
  check(request: FastifyRequest, reply: FastifyReply, scope: string): Promise<void>
  fail(request: FastifyRequest, scope: string): Promise<void>
}

export function credentialAttempts (request: FastifyRequest): CredentialAttempts | undefined {
  return (request.server as unknown as { authLimiter?: CredentialAttempts }).authLimiter
}

/**
 * An onRequest hook: runs before the body is read or any account is looked up, so a wrong
 * password is a 401 whether or not the resource exists and whatever the body holds. Failed
 * checks are rate limited per client address; successes never count (Heroku sends much
 * legitimate traffic from a few addresses).
 */
export function requireHerokuBasicAuth (user: string, password: string) {
  return async function herokuBasicAuth (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const attempts = credentialAttempts(request)
    await attempts?.check(request, reply, 'heroku-basic')
    if (basicAuthMatches(request.headers.authorization, user, password)) return
    await attempts?.fail(request, 'heroku-basic')
    void reply.header('WWW-Authenticate', 'Basic realm="marketgate-heroku", charset="UTF-8"')
    throw new MarketgateError('UNAUTHORIZED', 'HTTP Basic credentials of the add-on are required')
  }
}
