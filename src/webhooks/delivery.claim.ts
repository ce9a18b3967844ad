import { sql, type Kysely, type Transaction } from 'kysely'
import { EventType, shouldDisableEndpoint, type Clock, type Decision, type Random } from '../../core/index.js'
import { appendEvents } from '../storage/event-log.js'
import type { Database } from '../storage/tables.js'

/** A delivery this worker holds a lease on. `attempt` is its number (1 = first). */
export interface ClaimedDelivery {
  id: string
  eventId: string
  endpointId: string
  attempt: number
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints in ONE statement: the inner select
 * locks candidate rows with SKIP LOCKED (concurrent claimers pass over each other instead of
 * waiting), the update stamps a lease and counts the attempt. A row under an unexpired lease
 * is not due, so a delivery has one attempt in flight at a time; a dead worker's lease runs
 * out and the row comes back. Counting at claim time means a delivery that kills its worker
 * still reaches `dead` after the last attempt instead of looping forever.
 */
export async function claimDue (db: Kysely<Database>, owner: string, now: Date, options: { limit: number, leaseMs: number }): Promise<ClaimedDelivery[]> {
  const until = new Date(now.getTime() + options.leaseMs)
  const { rows } = await sql<{ id: string, event_id: string, endpoint_id: string, attempts: number }>`
    with due as (
      select w.id from webhook_deliveries w
      join webhook_endpoints e on e.id = w.endpoint_id
      where w.status in ('pending', 'retrying') and w.next_attempt_at <= ${now}
        and (w.lease_expires_at is null or w.lease_expires_at <= ${now})
        and e.enabled
      order by w.next_attempt_at, w.id
      limit ${options.limit}
      for update of w skip locked
    )
    update webhook_deliveries d
    set lease_owner = ${owner}, lease_expires_at = ${until}, attempts = d.attempts + 1, updated_at = ${now}
    from due where d.id = due.id
    returning d.id, d.event_id, d.endpoint_id, d.attempts`.execute(db)
  return rows.map((r) => ({ id: r.id, eventId: r.event_id, endpointId: r.endpoint_id, attempt: Number(r.attempts) }))
}

export interface AttemptRecord {
  at: Date
  durationMs: number
  statusCode: number | null
  excerpt: string | null
  error: string | null
}

export interface RecordOutcome {
  /** False when the lease was lost (expired and taken, or the endpoint was disabled): nothing was overwritten. */
  recorded: boolean
  endpointDisabled: boolean
}

/**
 * Records one attempt and its decision in one short transaction. The delivery row is
 * updated only while this worker still holds its lease for this attempt (owner and attempt
 * number): a worker that lost its lease cannot overwrite the result of the one that took
 * over. The attempt itself is recorded either way: it happened.
 */
export async function recordAttempt (
  db: Kysely<Database>, deps: { clock: Clock, random: Random }, claimed: ClaimedDelivery, owner: string, attempt: AttemptRecord, decision: Decision
): Promise<RecordOutcome> {
  const now = deps.clock.now()
  return db.transaction().execute(async (trx) => {
    await trx.insertInto('webhook_delivery_attempts').values({
      id: deps.random.uuid(),
      delivery_id: claimed.id,
      attempt: claimed.attempt,
      worker: owner,
      attempted_at: attempt.at,
      duration_ms: Math.round(attempt.durationMs),
      status_code: attempt.statusCode,
      response_excerpt: attempt.excerpt,
      error: attempt.error,
      outcome: decision.action === 'succeeded' ? 'succeeded' : 'failed'
    }).execute()

    const updated = await trx.updateTable('webhook_deliveries').set({
      ...deliveryState(decision, now),
      last_status_code: attempt.statusCode,
      last_error: attempt.error,
      last_attempt_at: attempt.at,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now
    }).where('id', '=', claimed.id).where('lease_owner', '=', owner).where('attempts', '=', claimed.attempt)
      .returning('id').executeTakeFirst()
    if (updated === undefined) return { recorded: false, endpointDisabled: false }

    if (decision.action === 'succeeded') {
      await trx.updateTable('webhook_endpoints').set({ failing_since: null })
        .where('id', '=', claimed.endpointId).where('failing_since', 'is not', null).execute()
      return { recorded: true, endpointDisabled: false }
    }
    if (decision.action === 'disable_endpoint') {
      return { recorded: true, endpointDisabled: await disableEndpoint(trx, deps, claimed.endpointId, 'gone', now) }
    }
    const ep = await trx.updateTable('webhook_endpoints').set({ failing_since: sql<Date>`coalesce(failing_since, ${now})` })
      .where('id', '=', claimed.endpointId).returning('failing_since').executeTakeFirst()
    const failingSince = ep?.failing_since ? new Date(ep.failing_since) : null
    const disabled = shouldDisableEndpoint(failingSince, now) && await disableEndpoint(trx, deps, claimed.endpointId, 'failing', now)
    return { recorded: true, endpointDisabled: disabled }
  })
}

function deliveryState (decision: Decision, now: Date) {
  switch (decision.action) {
    case 'succeeded': return { status: 'succeeded', succeeded_at: now }
    case 'retry': return { status: 'retrying', next_attempt_at: decision.at }
    case 'dead':
    case 'disable_endpoint': return { status: 'dead', dead_at: now }
  }
}

/**
 * Disables an endpoint (410 Gone, or failing for 5 days), ends its waiting deliveries as
 * dead (a recover after re-enabling brings them back), and records an `endpoint.disabled`
 * event, which other endpoints subscribed to it receive. False when it was already disabled.
 */
export async function disableEndpoint (
  trx: Transaction<Database>, deps: { clock: Clock, random: Random }, endpointId: string, reason: 'gone' | 'failing', now: Date
): Promise<boolean> {
  const ep = await trx.updateTable('webhook_endpoints').set({ enabled: false, disabled_at: now, disabled_reason: reason, updated_at: now })
    .where('id', '=', endpointId).where('enabled', '=', true).returning(['id', 'url', 'failing_since']).executeTakeFirst()
  if (ep === undefined) return false
  await trx.updateTable('webhook_deliveries')
    .set({ status: 'dead', dead_at: now, last_error: `endpoint disabled (${reason})`, lease_owner: null, lease_expires_at: null, updated_at: now })
    .where('endpoint_id', '=', endpointId).where('status', 'in', ['pending', 'retrying']).execute()
  await appendEvents(trx, deps, null, [{
    type: EventType.endpointDisabled,
    data: { endpoint_id: ep.id, url: publicUrlOf(ep.url), reason, failing_since: ep.failing_since ? new Date(ep.failing_since).toISOString() : null }
  }])
  return true
}

/** An endpoint URL safe to show other endpoints: no credentials, query or fragment. */
export function publicUrlOf (url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return '[invalid url]'
  }
}
