import { sql, type Kysely } from 'kysely'
import { rowToAccount } from '../storage/account.store.js'
import type { AccountRow, Database } from '../storage/tables.js'
import type { EndpointRow } from './endpoint.store.js'
import type { WebhookSource } from './webhook.body.js'

/** What the worker needs to send one delivery: the event, the account as it left it, and the endpoint's signing material. */
export interface DeliveryContext {
  source: WebhookSource
  endpoint: Pick<EndpointRow, 'id' | 'url' | 'secret_encrypted' | 'previous_secret_encrypted' | 'previous_secret_expires_at'>
}

/** A delivery this worker holds a lease on. `attempt` is its number (1 = first). */
export interface ClaimedDelivery {
  id: string
  eventId: string
  endpointId: string
  attempt: number
  /**
   * Read in the claiming statement itself, so a delivery costs no query of its own before it
   * is sent. `accountId` without `source.account`: an event written before snapshots were
   * kept, whose account the worker reads as it is now.
   */
  context: DeliveryContext & { accountId: string | null }
}

interface ClaimRow {
  id: string
  event_id: string
  endpoint_id: string
  attempts: number
  type: string
  data: Record<string, unknown>
  occurred_at: Date | string
  account_id: string | null
  account_snapshot: AccountRow | null
  url: string
  secret_encrypted: string
  previous_secret_encrypted: string | null
  previous_secret_expires_at: Date | null
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints in ONE statement: the inner select
 * locks candidate rows with SKIP LOCKED (concurrent claimers pass over each other instead of
 * waiting), the update stamps a lease and counts the attempt, and the outer select joins
 * what sending needs (event, snapshot, endpoint secrets). A row under an unexpired lease is
 * not due, so a delivery has one attempt in flight at a time; a dead worker's lease runs out
 * and the row comes back. Counting at claim time means a delivery that kills its worker
 * still reaches `dead` after the last attempt instead of looping forever.
 */
export async function claimDue (db: Kysely<Database>, owner: string, now: Date, options: { limit: number, leaseMs: number }): Promise<ClaimedDelivery[]> {
  const until = new Date(now.getTime() + options.leaseMs)
  const { rows } = await sql<ClaimRow>`
    with due as (
      select w.id from webhook_deliveries w
      join webhook_endpoints e on e.id = w.endpoint_id
      where w.status in ('pending', 'retrying') and w.next_attempt_at <= ${now}
        and (w.lease_expires_at is null or w.lease_expires_at <= ${now})
        and e.enabled
      order by w.next_attempt_at, w.id
      limit ${options.limit}
      for update of w skip locked
    ), claimed as (
      update webhook_deliveries d
      set lease_owner = ${owner}, lease_expires_at = ${until}, attempts = d.attempts + 1, updated_at = ${now}
      from due where d.id = due.id
      returning d.id, d.event_id, d.endpoint_id, d.attempts
    )
    select c.id, c.event_id, c.endpoint_id, c.attempts,
      ev.type, ev.data, ev.occurred_at, ev.account_id, ev.account_snapshot,
      ep.url, ep.secret_encrypted, ep.previous_secret_encrypted, ep.previous_secret_expires_at
    from claimed c
    join account_events ev on ev.id = c.event_id
    join webhook_endpoints ep on ep.id = c.endpoint_id
    order by c.id`.execute(db)
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    attempt: Number(r.attempts),
    context: {
      accountId: r.account_id,
      source: { id: r.event_id, type: r.type, data: r.data, occurredAt: new Date(r.occurred_at), account: r.account_snapshot ? rowToAccount(r.account_snapshot) : undefined },
      endpoint: { id: r.endpoint_id, url: r.url, secret_encrypted: r.secret_encrypted, previous_secret_encrypted: r.previous_secret_encrypted, previous_secret_expires_at: r.previous_secret_expires_at }
    }
  }))
}
