import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Services } from '../services.js'
import { createParkedMessageStore } from '../storage/parked-message.store.js'
import { decodeCursor } from '../storage/cursor.js'
import { PageQuery, pageOf } from './pagination.js'

const ParkedJson = Type.Object({
  id: Type.String(),
  source: Type.String(),
  message_id: Type.String(),
  state: Type.String(),
  match_key: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  attempts: Type.Integer(),
  body: Type.Unknown(),
  created_at: Type.String({ format: 'date-time' })
})

/**
 * GET /v1/aws/dead-messages: marketplace messages the gateway set aside — `dead` after the SQS
 * poller gave up on them, `waiting` for an account that does not exist yet.
 */
export const awsMessagesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const parked = createParkedMessageStore(services)
  app.get('/aws/dead-messages', {
    schema: {
      tags: ['aws'],
      summary: 'AWS marketplace messages parked as dead (or waiting for their account), oldest first',
      querystring: Type.Object({ ...PageQuery, state: Type.Optional(Type.Union([Type.Literal('dead'), Type.Literal('waiting')])) }, { additionalProperties: false }),
      response: { 200: pageOf(ParkedJson) }
    }
  }, async (request) => {
    const q = request.query
    const page = await parked.list({ marketplace: 'aws', state: q.state ?? 'dead' }, { limit: q.limit, after: decodeCursor(q.cursor) })
    return {
      data: page.data.map((m) => ({
        id: m.id, source: m.source, message_id: m.messageId, state: m.state, match_key: m.matchKey, reason: m.reason,
        attempts: m.attempts, body: m.body, created_at: m.createdAt.toISOString()
      })),
      next_cursor: page.nextCursor
    }
  })
}
