import { sql, type Kysely } from 'kysely'
import { EventType, notFound, MarketgateError, type Account, type Clock, type Page, type Random } from '../../core/index.js'
import { pageOf } from '../storage/cursor.js'
import { outboxChannel } from '../storage/event-log.js'
import { rowToAccount } from '../storage/account.store.js'
import { recoverDeliveries, type RecoverResult } from './delivery.recover.js'
import type { Database } from '../storage/tables.js'

export const deliveryStatuses = ['pending', 'retrying', 'succeeded', 'dead'] as const
export type DeliveryStatus = (typeof deliveryStatuses)[number]

export interface DeliveryAttempt {
  attempt: number
  attemptedAt: Date
  durationMs: number
  statusCode: number | null
  responseExcerpt: string | null
  error: string | null
  outcome: string
}

export interface Delivery {
  id: string
  eventId: string
  eventType: string
  status: DeliveryStatus
  attemptCount: number
  nextAttemptAt: Date | null
  lastStatusCode: number | null
  lastError: string | null
  createdAt: Date
  succeededAt: Date | null
  deadAt: Date | null
  attempts: DeliveryAttempt[]
}

/** Reads and requeues of the webhook outbox, for the worker and the /v1 API. */
export function createDeliveryStore (deps: { db: Kysely<Database>, clock: Clock, random: Random, retentionDays?: number }) {
  const { db, clock, random } = deps

  async function insertDelivery (db: Kysely<Database>, endpointId: string, eventId: string, now: Date): Promise<string> {
    const id = random.uuid()
    await db.insertInto('webhook_deliveries').values({ id, event_id: eventId, endpoint_id: endpointId, next_attempt_at: now, created_at: now, updated_at: now }).execute()
    await sql`select pg_notify(${outboxChannel}, '')`.execute(db)
    return id
  }

  async function requireEnabled (endpointId: string): Promise<void> {
    const ep = await db.selectFrom('webhook_endpoints').select('enabled').where('id', '=', endpointId).executeTakeFirst()
    if (ep === undefined) throw notFound('webhook endpoint')
    if (!ep.enabled) throw new MarketgateError('CONFLICT', 'the webhook endpoint is disabled; enable it first')
  }

  return {
    /** An account as it is now: the body of an event written before snapshots were kept. */
    async accountNow (accountId: string): Promise<Account | undefined> {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst()
      return row && rowToAccount(row)
    },

    /** Queues a `webhook.test` event for one endpoint only. */
    async enqueueTest (endpointId: string): Promise<{ eventId: string, deliveryId: string }> {
      await requireEnabled(endpointId)
      const now = clock.now()
      return db.transaction().execute(async (trx) => {
        const eventId = random.uuid()
        await trx.insertInto('account_events').values({
          id: eventId, account_id: null, type: EventType.webhookTest, data: JSON.stringify({ endpoint_id: endpointId, message: 'a test webhook from Marketgate' }), occurred_at: now
        }).execute()
        return { eventId, deliveryId: await insertDelivery(trx, endpointId, eventId, now) }
      })
    },

    /** Sends one event to one endpoint again, as a new delivery with a fresh schedule and the same webhook-id. */
    async replay (endpointId: string, eventId: string): Promise<string> {
      await requireEnabled(endpointId)
      const event = await db.selectFrom('account_events').select('id').where('id', '=', eventId).executeTakeFirst()
      if (event === undefined) throw notFound('event')
      return insertDelivery(db, endpointId, eventId, clock.now())
    },

    /**
     * Makes the endpoint whole since `since` (recoverDeliveries): its failed and dead
     * deliveries due again now, and a delivery for each event of the period it missed.
     */
    async recover (endpointId: string, since: Date): Promise<RecoverResult> {
      await requireEnabled(endpointId)
      const now = clock.now()
      // Delivered deliveries older than the retention are pruned: an event of that age without a
      // delivery may well have been delivered, so the creating pass does not reach back so far.
      const createSince = deps.retentionDays === undefined ? since
        : new Date(Math.max(since.getTime(), now.getTime() - deps.retentionDays * 86_400_000))
      return recoverDeliveries(db, endpointId, since, now, { createSince })
    },

    /** An endpoint's deliveries, oldest first, each with its attempts. */
    async list (endpointId: string, filter: { status?: DeliveryStatus }, page: { limit: number, after?: string }): Promise<Page<Delivery>> {
      let q = db.selectFrom('webhook_deliveries as d').innerJoin('account_events as e', 'e.id', 'd.event_id')
        .selectAll('d').select('e.type as event_type').where('d.endpoint_id', '=', endpointId)
      if (filter.status) q = q.where('d.status', '=', filter.status)
      if (page.after) q = q.where('d.id', '>', page.after)
      const rows = await q.orderBy('d.id').limit(page.limit + 1).execute()
      const ids = rows.map((r) => r.id)
      const attempts = ids.length === 0 ? [] : await db.selectFrom('webhook_delivery_attempts').selectAll()
        .where('delivery_id', 'in', ids).orderBy('id').execute()
      const deliveries = rows.map((r): Delivery => ({
        id: r.id,
        eventId: r.event_id,
        eventType: r.event_type,
        status: r.status as DeliveryStatus,
        attemptCount: r.attempts,
        nextAttemptAt: r.status === 'pending' || r.status === 'retrying' ? new Date(r.next_attempt_at) : null,
        lastStatusCode: r.last_status_code,
        lastError: r.last_error,
        createdAt: new Date(r.created_at),
        succeededAt: r.succeeded_at,
        deadAt: r.dead_at,
        attempts: attempts.filter((a) => a.delivery_id === r.id).map((a) => ({
          attempt: a.attempt, attemptedAt: new Date(a.attempted_at), durationMs: a.duration_ms, statusCode: a.status_code,
          responseExcerpt: a.response_excerpt, error: a.error, outcome: a.outcome
        }))
      }))
      return pageOf(deliveries, page.limit)
    },

    /** Seconds since the oldest due delivery (of an enabled endpoint) became due; 0 when none is. */
    async oldestDueAgeSeconds (): Promise<number> {
      const now = clock.now()
      const row = await db.selectFrom('webhook_deliveries as d').innerJoin('webhook_endpoints as ep', 'ep.id', 'd.endpoint_id')
        .select((eb) => eb.fn.min('d.next_attempt_at').as('oldest'))
        .where('d.status', 'in', ['pending', 'retrying']).where('d.next_attempt_at', '<=', now).where('ep.enabled', '=', true)
        .executeTakeFirst()
      const oldest = row?.oldest
      return oldest ? Math.max(0, (now.getTime() - new Date(oldest).getTime()) / 1000) : 0
    }
  }
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>
