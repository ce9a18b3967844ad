import { sql, type Kysely } from 'kysely'
import { EventType } from '../../core/index.js'
import { uuidv7Floor } from '../random.js'
import { outboxChannel } from '../storage/event-log.js'
import type { Database } from '../storage/tables.js'

/** What one recover did: `recovered` = `revived` + `created`, the rows it made due now. */
export interface RecoverResult {
  recovered: number
  /** Failed (retrying) or dead deliveries put back to due with a fresh schedule. */
  revived: number
  /** Deliveries made for events of the period that had none for this endpoint (it was disabled then). */
  created: number
  /** Failed or dead deliveries left alone because an attempt of theirs is still in flight; recover again once it is recorded. */
  inFlight: number
}

/** Rows per statement: each batch is one short statement, so a recover of a long outage never holds locks for long. */
export const recoverBatchSize = 500


/**
 * Makes an endpoint whole for the period [since, now]: revives its failed and dead deliveries
 * (not one in flight: a second worker would send it while the first still is), then creates
 * a delivery for every event of the period that its filter matches and that has no delivery
 * for it yet — the events it missed while disabled. Events before the endpoint existed were
 * never owed to it (replay sends one by id). A created delivery takes the id the fan-out would
 * have given it (event id with the endpoint's node bits), so two recovers at once, or one run
 * twice, create each delivery once. Idempotent: a second recover finds nothing to do.
 */
export async function recoverDeliveries (
  db: Kysely<Database>, endpointId: string, since: Date, now: Date, options: { batchSize?: number, createSince?: Date } = {}
): Promise<RecoverResult> {
  const batchSize = options.batchSize ?? recoverBatchSize
  const createSince = options.createSince ?? since
  let revived = 0
  for (;;) {
    const { rows } = await sql<{ id: string }>`
      update webhook_deliveries d
      set status = 'pending', attempts = 0, next_attempt_at = ${now}, dead_at = null, lease_owner = null, lease_expires_at = null, updated_at = ${now}
      where d.id in (
        select w.id from webhook_deliveries w
        where w.endpoint_id = ${endpointId} and w.status in ('retrying', 'dead') and w.created_at >= ${since}
          and (w.lease_expires_at is null or w.lease_expires_at <= ${now})
        order by w.id limit ${batchSize}
        for update skip locked
      )
      returning d.id`.execute(db)
    revived += rows.length
    if (rows.length < batchSize) break
  }

  let created = 0
  let after = uuidv7Floor(createSince)
  for (;;) {
    const { rows } = await sql<{ last: string | null, scanned: number | string, created: number | string }>`
      with ep as (
        select id, events, products, created_at from webhook_endpoints where id = ${endpointId} and enabled
      ), batch as (
        select ev.id from account_events ev, ep
        where ev.id > ${after}::uuid and ev.occurred_at >= ${createSince} and ev.occurred_at >= ep.created_at and ev.occurred_at <= ${now}
          -- A test event belongs to the one endpoint it was queued for.
          and ev.type <> ${EventType.webhookTest}
          and (ep.events is null or ev.type = any(ep.events))
          and (ep.products is null or ev.account_snapshot is null or ev.account_snapshot->>'product' = any(ep.products))
        order by ev.id limit ${batchSize}
      ), ins as (
        insert into webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
        select overlay(b.id::text placing substr(md5(ep.id::text), 1, 12) from 25 for 12)::uuid, b.id, ep.id, ${now}, ${now}, ${now}
        from batch b, ep
        where not exists (select 1 from webhook_deliveries d where d.endpoint_id = ep.id and d.event_id = b.id)
        on conflict (id) do nothing
        returning 1
      )
      select (select max(id::text) from batch) as last, (select count(*) from batch) as scanned, (select count(*) from ins) as created`.execute(db)
    const r = rows[0]!
    created += Number(r.created)
    if (Number(r.scanned) < batchSize || r.last === null) break
    after = r.last
  }

  if (revived + created > 0) await sql`select pg_notify(${outboxChannel}, '')`.execute(db)
  const held = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('endpoint_id', '=', endpointId).where('status', 'in', ['retrying', 'dead']).where('created_at', '>=', since)
    .where('lease_expires_at', '>', now).executeTakeFirstOrThrow()
  return { recovered: revived + created, revived, created, inFlight: Number(held.n) }
}
