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
 * An onRequest hook: runs before the body is read or any account is looked up, so a wrong
 * password is a 401 whether or not the resource exists and whatever the body holds.
 */
export function requireHerokuBasicAuth (user: string, password: string) {
  return async function herokuBasicAuth (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (basicAuthMatches(request.headers.authorization, user, password)) return
    void reply.header('WWW-Authenticate', 'Basic realm="marketgate-heroku", charset="UTF-8"')
    throw new MarketgateError('UNAUTHORIZED', 'HTTP Basic credentials of the add-on are required')
  }
}
