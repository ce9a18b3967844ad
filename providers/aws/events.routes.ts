import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { MarketgateError } from '../../core/index.js'
import type { NotificationHandler } from './notification.handler.js'
import { parseEvent } from './notification.parse.js'
import { acknowledged } from './sns.routes.js'

export const eventsSecretHeader = 'x-marketgate-events-secret'

/** Constant time, whatever the lengths: both sides are hashed first. */
function sameSecret (a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

/**
 * POST /aws/events: EventBridge events delivered by an API destination, authenticated by a
 * shared secret header (AWS_EVENTS_SECRET). Closed (404) when no secret is configured.
 */
export async function eventsRoutes (app: FastifyInstance, opts: { handler: NotificationHandler, secret: string | undefined }): Promise<void> {
  app.post('/events', { schema: { tags: ['aws'], summary: `EventBridge marketplace events (header ${eventsSecretHeader})` } }, async (request) => {
    if (opts.secret === undefined) throw new MarketgateError('NOT_CONFIGURED', 'set AWS_EVENTS_SECRET to receive EventBridge events here')
    const given = request.headers[eventsSecretHeader]
    if (typeof given !== 'string' || !sameSecret(given, opts.secret)) throw new MarketgateError('UNAUTHORIZED', `a valid ${eventsSecretHeader} header is required`)
    const body = request.body
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MarketgateError('VALIDATION_FAILED', 'the body must be an EventBridge event')
    const n = parseEvent(body as Record<string, unknown>)
    if (n === undefined) request.log.info({ detailType: (body as Record<string, unknown>)['detail-type'] }, 'aws event not acted on')
    else await opts.handler.handle(n, 'events')
    // The same answer first time or repeat; the outcome is in the handler's log line.
    return acknowledged
  })
}
