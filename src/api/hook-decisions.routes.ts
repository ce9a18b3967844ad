import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { hookOutcomes, marketplaces, type HookOutcome } from '../../core/index.js'
import type { Services } from '../services.js'
import { decodeCursor } from '../storage/cursor.js'
import { PageQuery, pageOf } from './pagination.js'

const HookDecisionJson = Type.Object({
  id: Type.String({ format: 'uuid' }),
  /** The `webhook-id` of the ask: the same for every ask of one question. */
  question_id: Type.String(),
  product: Type.String(),
  marketplace: Type.String(),
  external_id: Type.String(),
  type: Type.String(),
  plan: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  /** The vendor's message, or why there was no decision. */
  message: Type.Union([Type.String(), Type.Null()]),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Integer(),
  decided_at: Type.String({ format: 'date-time' })
})

/** GET /v1/hook-decisions: every decision of the vendor's hook, oldest first (never the config it handed out). */
export const hookDecisionsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get('/hook-decisions', {
    schema: {
      tags: ['hook'],
      summary: "Decisions of the vendor's hook, oldest first, filtered by product, marketplace, external id or outcome",
      querystring: Type.Object({
        ...PageQuery,
        product: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
        marketplace: Type.Optional(Type.Union(marketplaces.map((m) => Type.Literal(m)))),
        external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
        outcome: Type.Optional(Type.Union(hookOutcomes.map((o) => Type.Literal(o))))
      }, { additionalProperties: false }),
      response: { 200: pageOf(HookDecisionJson) }
    }
  }, async (request) => {
    const q = request.query
    const page = await services.hooks.decisions.list(
      { product: q.product, marketplace: q.marketplace, externalId: q.external_id, outcome: q.outcome as HookOutcome | undefined },
      { limit: q.limit, after: decodeCursor(q.cursor) })
    return {
      data: page.data.map((d) => ({
        id: d.id, question_id: d.question_id, product: d.product, marketplace: d.marketplace, external_id: d.external_id, type: d.type,
        plan: d.plan, outcome: d.outcome, message: d.message, status_code: d.status_code, duration_ms: d.duration_ms,
        decided_at: new Date(d.decided_at).toISOString()
      })),
      next_cursor: page.nextCursor
    }
  })
}
