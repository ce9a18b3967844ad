import { sql, type RawBuilder, type Transaction } from 'kysely'
import type { Clock, LifecycleEvent, Random, StoredEvent } from '../../core/index.js'
import type { Database } from './tables.js'

export const outboxChannel = 'marketgate_outbox'

/** An event as it is inserted: its id (a UUIDv7, so events sort by time) and data as JSON text. */
export interface NewEvent {
  id: string
  type: string
  data: string
}

export function newEvents (random: Random, events: LifecycleEvent[]): NewEvent[] {
  return events.map((e) => ({ id: random.uuid(), type: e.type, data: JSON.stringify(e.data) }))
}

export function storedEvents (rows: NewEvent[], accountId: string | null, now: Date): StoredEvent[] {
  return rows.map((r) => ({ id: r.id, accountId, type: r.type as StoredEvent['type'], data: JSON.parse(r.data) as Record<string, unknown>, occurredAt: now }))
}

/**
 * The CTE `ins` that fans the rows of a preceding CTE `ev` (id, type, product) out to the outbox:
 * one delivery per enabled endpoint whose filters (null = every one) name the event's type and
 * its account's product. Gateway events (no account, no product) pass the product filter.
 * A delivery's id is its event's UUIDv7 with the node bits taken from the endpoint, so
 * deliveries sort by event time and stay unique per (event, endpoint).
 */
export function fanOutCte (now: Date): RawBuilder<unknown> {
  return sql`ins as (
      insert into webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
      select overlay(ev.id::text placing substr(md5(ep.id::text), 1, 12) from 25 for 12)::uuid, ev.id, ep.id, ${now}, ${now}, ${now}
      from ev join webhook_endpoints ep on ep.enabled and (ep.events is null or ev.type = any(ep.events))
        and (ep.products is null or ev.product is null or ev.product = any(ep.products))
      returning 1
    )`
}

/**
 * A query that sends the NOTIFY once when `ins` wrote any delivery (a latency hint for
 * listening workers; polling remains the truth). A plain SELECT inside a WITH runs only as
 * far as something reads it: use it as the main query, or read all of it (count(*)).
 */
export const notifyIfDelivered = sql`select pg_notify(${outboxChannel}, '') from (select 1 from ins limit 1) as any_delivery`

/**
 * Appends events and fans each out to the outbox, in ONE statement with the NOTIFY (four
 * round trips became one: provisioning spends most of its time waiting on them). Runs inside
 * the caller's transaction, after the account's own write: each event keeps the account as
 * this change left it, so every attempt of every webhook sends the same body.
 */
export async function appendEvents (
  trx: Transaction<Database>, deps: { clock: Clock, random: Random }, accountId: string | null, events: LifecycleEvent[]
): Promise<StoredEvent[]> {
  if (events.length === 0) return []
  const now = deps.clock.now()
  const rows = newEvents(deps.random, events)
  const snapshot = accountId === null ? null : sql<string>`(select to_jsonb(a) from accounts a where a.id = ${accountId})`
  const values = sql.join(rows.map((r) => sql`(${r.id}::uuid, ${accountId}::uuid, ${r.type}, ${r.data}::jsonb, ${now}::timestamptz, ${snapshot})`))
  await sql`
    with ev as (
      insert into account_events (id, account_id, type, data, occurred_at, account_snapshot)
      values ${values}
      returning id, type, account_snapshot->>'product' as product
    ), ${fanOutCte(now)}
    ${notifyIfDelivered}`.execute(trx)
  return storedEvents(rows, accountId, now)
}
