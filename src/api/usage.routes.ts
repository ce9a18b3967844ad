import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MarketgateError } from '../../core/index.js'
import type { UsageIngest } from '../metering/usage.ingest.js'
import type { Services } from '../services.js'

const UsageRecordJson = Type.Object({
  account_id: Type.Optional(Type.String({ format: 'uuid' })),
  product: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
  marketplace: Type.Optional(Type.Literal('aws')),
  external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  dimension: Type.String({ minLength: 1, maxLength: 255 }),
  quantity: Type.Integer({ minimum: 0, maximum: 2147483647 }),
  timestamp: Type.Optional(Type.String({ format: 'date-time' })),
  idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
}, { additionalProperties: false })
type UsageRecordJson = Static<typeof UsageRecordJson>

const statuses = ['pending', 'sending', 'sent', 'rejected', 'expired', 'skipped'] as const

/** POST /v1/usage (one record or `{ records: [...] }` up to 1000) and GET /v1/usage. */
export const usageRoutes: FastifyPluginAsyncTypebox<{ services: Services, ingest: UsageIngest }> = async (app, { services, ingest }) => {
  app.post('/usage', {
    schema: {
      tags: ['usage'],
      summary: 'Report usage: one record, or a batch of up to 1000; a repeated idempotency_key counts once',
      body: Type.Union([UsageRecordJson, Type.Object({ records: Type.Array(UsageRecordJson, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false })]),
      response: { 202: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer(), carried: Type.Integer() }) }
    }
  }, async (request, reply) => {
    const list: UsageRecordJson[] = 'records' in request.body ? request.body.records : [request.body]
    const records = list.map((r, i) => {
      if (!r.account_id && !(r.marketplace && r.external_id)) {
        throw new MarketgateError('VALIDATION_FAILED', `record ${i}: give account_id, or marketplace and external_id`)
      }
      return {
        accountId: r.account_id?.toLowerCase(), product: r.product, marketplace: r.marketplace, externalId: r.external_id, dimension: r.dimension,
        quantity: r.quantity, timestamp: r.timestamp ? new Date(r.timestamp) : undefined, idempotencyKey: r.idempotency_key
      }
    })
    return reply.status(202).send(await ingest.ingest(records))
  })

  app.get('/usage', {
    schema: {
      tags: ['usage'],
      summary: 'Usage per account, dimension and hour, with its metering status',
      querystring: Type.Object({
        account_id: Type.Optional(Type.String({ format: 'uuid' })),
        dimension: Type.Optional(Type.String({ maxLength: 255 })),
        status: Type.Optional(Type.Union(statuses.map((s) => Type.Literal(s)))),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        cursor: Type.Optional(Type.String({ maxLength: 300 }))
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          data: Type.Array(Type.Object({
            account_id: Type.String(), dimension: Type.String(), hour: Type.String(), quantity: Type.Integer(), reports: Type.Integer(),
            status: Type.String(), sent_quantity: Type.Union([Type.Integer(), Type.Null()]), metering_status: Type.Union([Type.String(), Type.Null()]),
            metering_record_id: Type.Union([Type.String(), Type.Null()]), attempts: Type.Integer(), last_error: Type.Union([Type.String(), Type.Null()]),
            sent_at: Type.Union([Type.String(), Type.Null()])
          })),
          next_cursor: Type.Union([Type.String(), Type.Null()])
        })
      }
    }
  }, async (request) => {
    const q = request.query
    let query = services.db.selectFrom('usage_hours').selectAll()
    if (q.account_id) query = query.where('account_id', '=', q.account_id.toLowerCase())
    if (q.dimension) query = query.where('dimension', '=', q.dimension)
    if (q.status) query = query.where('status', '=', q.status)
    const after = decodeUsageCursor(q.cursor)
    if (after) {
      query = query.where((eb) => eb.or([
        eb('hour', '>', after.hour),
        eb.and([eb('hour', '=', after.hour), eb('account_id', '>', after.accountId)]),
        eb.and([eb('hour', '=', after.hour), eb('account_id', '=', after.accountId), eb('dimension', '>', after.dimension)])
      ]))
    }
    const rows = await query.orderBy('hour').orderBy('account_id').orderBy('dimension').limit(q.limit + 1).execute()
    const page = rows.slice(0, q.limit)
    const last = page[page.length - 1]
    return {
      data: page.map((r) => ({
        account_id: r.account_id, dimension: r.dimension, hour: new Date(r.hour).toISOString(), quantity: Number(r.quantity), reports: r.reports,
        status: r.status, sent_quantity: r.sent_quantity === null ? null : Number(r.sent_quantity), metering_status: r.metering_status,
        metering_record_id: r.metering_record_id, attempts: r.attempts, last_error: r.last_error, sent_at: r.sent_at ? new Date(r.sent_at).toISOString() : null
      })),
      next_cursor: rows.length > q.limit && last
        ? Buffer.from(JSON.stringify([new Date(last.hour).toISOString(), last.account_id, last.dimension])).toString('base64url')
        : null
    }
  })
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function decodeUsageCursor (cursor: string | undefined): { hour: Date, accountId: string, dimension: string } | undefined {
  if (!cursor) return undefined
  try {
    const [hour, accountId, dimension] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string, string]
    const at = new Date(hour)
    if (Number.isNaN(at.getTime()) || typeof accountId !== 'string' || !uuidPattern.test(accountId) || typeof dimension !== 'string') throw new Error('bad')
    return { hour: at, accountId, dimension }
  } catch {
    throw new MarketgateError('VALIDATION_FAILED', 'invalid cursor')
  }
}
