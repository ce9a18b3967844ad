import type { FastifyInstance } from 'fastify'
import { MarketgateError } from '../../core/index.js'
import { safeEqual } from '../crypto/secret-box.js'

/**
 * Bearer authentication for everything registered in this scope. Without
 * MARKETGATE_ADMIN_TOKEN every call is refused: an open admin API is never a default.
 * Failed checks are rate limited per client address (app.authLimiter); good tokens never count.
 */
export function requireAdminToken (app: FastifyInstance, token: string | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    await app.authLimiter.check(request, reply, 'admin')
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    if (token === undefined || match === null || !safeEqual(match[1]!.trim(), token)) {
      await app.authLimiter.fail(request, 'admin')
      void reply.header('WWW-Authenticate', 'Bearer realm="marketgate"')
      throw new MarketgateError('UNAUTHORIZED', token === undefined
        ? 'the /v1 API is closed: set MARKETGATE_ADMIN_TOKEN'
        : 'a valid bearer token is required')
    }
  })
}
