import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MarketgateError } from '../../core/index.js'
import type { NotificationHandler } from './notification.handler.js'
import { parseEvent } from './notification.parse.js'
import { acknowledged } from './sns.routes.js'

export const eventsSecretHeader = 'x-marketgate-events-secret'

/** Constant time, whatever the lengths: both sides are hashed first. */
function sameSecret (a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

/** The gateway's limiter of failed credential checks (`authLimiter` on the app; absent when run alone). */
interface CredentialAttempts {
  check(request: FastifyRequest, reply: FastifyReply, scope: string): Promise<void>
  fail(request: FastifyRequest, scope: string): Promise<void>
}
const attemptsOf = (request: FastifyRequest) => (request.server as unknown as { authLimiter?: CredentialAttempts }).authLimiter

/**
 * POST /aws/events: EventBridge events delivered by an API destination, authenticated by a
 * shared secret header (AWS_EVENTS_SECRET). Closed (404) when no secret is configured.
 */
export async function eventsRoutes (app: FastifyInstance, opts: { handler: NotificationHandler, secret: string | undefined }): Promise<void> {
  // The secret is checked on request, before the body is read or checked, like every credential.
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    if (opts.secret === undefined) throw new MarketgateError('NOT_CONFIGURED', 'set AWS_EVENTS_SECRET to receive EventBridge events here')
    // Failed secrets are rate limited per client address; accepted events never count.
    const attempts = attemptsOf(request)
    await attempts?.check(request, reply, 'aws-events')
    const given = request.headers[eventsSecretHeader]
    if (typeof given !== 'string' || !sameSecret(given, opts.secret)) {
      await attempts?.fail(request, 'aws-events')
      throw new MarketgateError('UNAUTHORIZED', `a valid ${eventsSecretHeader} header is required`)
    }
  }
  app.post('/events', { onRequest, schema: { tags: ['aws'], summary: `EventBridge marketplace events (header ${eventsSecretHeader})` } }, async (request) => {
    const body = request.body
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MarketgateError('VALIDATION_FAILED', 'the body must be an EventBridge event')
    const n = parseEvent(body as Record<string, unknown>)
    if (n === undefined) request.log.info({ detailType: (body as Record<string, unknown>)['detail-type'] }, 'aws event not acted on')
    else await opts.handler.handle(n, 'events')
    // The same answer first time or repeat; the outcome is in the handler's log line.
    return acknowledged
  })
}
