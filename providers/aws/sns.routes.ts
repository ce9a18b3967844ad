import type { FastifyInstance } from 'fastify'
import { isMarketgateError } from '../../core/index.js'
import type { NotificationHandler } from './notification.handler.js'
import { parseSnsBody } from './notification.parse.js'
import { isSnsUrl, type createSnsVerifier } from './sns.signature.js'

export interface SnsRouteOptions {
  verifier: ReturnType<typeof createSnsVerifier>
  handler: NotificationHandler
  /** Confirms a subscription: an HTTPS GET of its SubscribeURL. */
  fetchUrl: (url: string) => Promise<void>
}

/** The one answer to every notification SNS delivered, first time or repeat. */
export const acknowledged = { status: 'ok' } as const

const forbidden = { error: { code: 'FORBIDDEN', message: 'the SNS message failed verification' } }

/**
 * POST /aws/sns, the HTTPS endpoint of the marketplace SNS topics. Nothing is trusted before
 * the signature checks out (403 otherwise, nothing changed). A SubscriptionConfirmation is
 * confirmed by fetching its SubscribeURL once that URL, too, is on an SNS host.
 */
export async function snsRoutes (app: FastifyInstance, opts: SnsRouteOptions): Promise<void> {
  app.post('/sns', { schema: { tags: ['aws'], summary: 'SNS HTTPS endpoint for the marketplace topics (signed messages)' } }, async (request, reply) => {
    let body: unknown = request.body
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body)
      } catch {
        return reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message: 'the body is not JSON' } })
      }
    }
    const check = await opts.verifier.verify(body)
    if (!check.ok) {
      request.log.warn({ reason: check.reason }, 'sns message rejected')
      if (check.transient) return reply.status(503).send({ error: { code: 'UPSTREAM_UNAVAILABLE', message: 'could not verify the message now; retry' } })
      return reply.status(403).send(forbidden)
    }
    const m = check.message
    switch (m.Type) {
      case 'SubscriptionConfirmation':
        if (!isSnsUrl(m.SubscribeURL!, false)) {
          request.log.warn({ topic: m.TopicArn }, 'sns SubscribeURL not on an SNS host')
          return reply.status(403).send(forbidden)
        }
        await opts.fetchUrl(m.SubscribeURL!)
        request.log.info({ topic: m.TopicArn }, 'sns subscription confirmed')
        return { status: 'confirmed' }
      case 'UnsubscribeConfirmation':
        // Visiting its SubscribeURL would subscribe again: only note it.
        request.log.warn({ topic: m.TopicArn }, 'sns subscription removed')
        return { status: 'noted' }
      default:
        try {
          await opts.handler.handle(parseSnsBody(`sns:${m.MessageId}`, m.Message), 'sns')
        } catch (err) {
          // A signed message we cannot read will never read better: acknowledge, or SNS retries for days.
          if (!isMarketgateError(err, 'VALIDATION_FAILED')) throw err
          request.log.warn({ messageId: m.MessageId, reason: err.message }, 'sns message not understood')
        }
        // A repeated message answers as the first did (CONTRACT §3): whether it changed,
        // repeated or was ignored is in the handler's log line, not in the answer.
        return acknowledged
    }
  })
}
