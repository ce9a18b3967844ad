import { sql, type Kysely, type Transaction } from 'kysely'
import { EventType, shouldDisableEndpoint, type Clock, type Decision, type Random } from '../../core/index.js'
import { appendEvents } from '../storage/event-log.js'
import type { Database } from '../storage/tables.js'
import type { ClaimedDelivery } from './delivery.claim.js'

type Claim = Pick<ClaimedDelivery, 'id' | 'endpointId' | 'attempt'>

export interface AttemptRecord {
  /**
   * Chosen once, when the attempt ends: a write retried after a lost acknowledgement (its
   * commit went through) then inserts nothing twice (`on conflict (id) do nothing`).
   */
  id?: string
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
 * Records a round of successful attempts in ONE statement, whatever their number: the
 * attempts, each delivery's success (fenced by lease owner and attempt number, as
 * `recordAttempt` does), and the end of its endpoint's failing streak. Successes are nearly
 * every attempt, so this is what a busy worker writes; failures keep `recordAttempt`, whose
 * branches (retry, dead, disable) are rare. Returns the ids of the deliveries it updated; a
 * missing id lost its lease and overwrote nothing. The rows travel as one JSON parameter,
 * which both engines read with jsonb_to_recordset (array parameters differ between drivers).
 */
export async function recordSuccesses (
  db: Kysely<Database>, deps: { clock: Clock, random: Random }, owner: string, done: Array<{ claimed: Claim, attempt: AttemptRecord }>
): Promise<Set<string>> {
  if (done.length === 0) return new Set()
  const now = deps.clock.now()
  const rows = JSON.stringify(done.map(({ claimed, attempt }) => ({
    attempt_id: attempt.id ?? deps.random.uuid(),
    delivery_id: claimed.id,
    attempt: claimed.attempt,
    attempted_at: attempt.at.toISOString(),
    duration_ms: Math.round(attempt.durationMs),
    status_code: attempt.statusCode,
    excerpt: attempt.excerpt
  })))
  const { rows: updated } = await sql<{ id: string }>`
    with input as (
      select * from jsonb_to_recordset(${rows}::jsonb) as t(attempt_id uuid, delivery_id uuid, attempt int,
        attempted_at timestamptz, duration_ms int, status_code int, excerpt text)
    ), attempts as (
      -- A delivery deleted meanwhile (with its endpoint) has nowhere to keep its attempt.
      insert into webhook_delivery_attempts (id, delivery_id, attempt, worker, attempted_at, duration_ms, status_code, response_excerpt, error, outcome)
      select i.attempt_id, i.delivery_id, i.attempt, ${owner}, i.attempted_at, i.duration_ms, i.status_code, i.excerpt, null, 'succeeded'
      from input i join webhook_deliveries w on w.id = i.delivery_id
      on conflict (id) do nothing
      returning 1
    ), done as (
      update webhook_deliveries d
      set status = 'succeeded', succeeded_at = ${now}, dead_at = null, last_status_code = i.status_code, last_error = null,
        last_attempt_at = i.attempted_at, lease_owner = null, lease_expires_at = null, updated_at = ${now}
      from input i
      where d.id = i.delivery_id and d.lease_owner = ${owner} and d.attempts = i.attempt
      returning d.id, d.endpoint_id
    ), healed as (
      -- A success ends the failing streak, unless the streak began after this attempt (a
      -- failure recorded before this older success, by another group).
      update webhook_endpoints ep set failing_since = null
      from (select d.endpoint_id, max(i.attempted_at) as last from done d join input i on i.delivery_id = d.id group by d.endpoint_id) s
      where ep.id = s.endpoint_id and ep.failing_since <= s.last
      returning 1
    )
    select id from done`.execute(db)
  return new Set(updated.map((r) => r.id))
}

/**
 * Records one attempt and its decision in one short transaction. The delivery row is
 * updated only while this worker still holds its lease for this attempt (owner and attempt
 * number): a worker that lost its lease cannot overwrite the result of the one that took
 * over. The attempt itself is recorded either way: it happened.
 */
export async function recordAttempt (
  db: Kysely<Database>, deps: { clock: Clock, random: Random }, claimed: Claim, owner: string, attempt: AttemptRecord, decision: Decision
): Promise<RecordOutcome> {
  const now = deps.clock.now()
  return db.transaction().execute(async (trx) => {
    // The endpoint first, then the delivery: the order a disabling takes (endpoint, then all
    // its deliveries), so two failures recorded at once cannot deadlock each other (seen on
    // Postgres with ten 410s in flight: the aborted one kept its lease until it expired).
    // NO KEY UPDATE leaves the fan-out's foreign-key checks free.
    await trx.selectFrom('webhook_endpoints').select('id').where('id', '=', claimed.endpointId).forNoKeyUpdate().executeTakeFirst()
    await trx.insertInto('webhook_delivery_attempts').values({
      id: attempt.id ?? deps.random.uuid(),
      delivery_id: claimed.id,
      attempt: claimed.attempt,
      worker: owner,
      attempted_at: attempt.at,
      duration_ms: Math.round(attempt.durationMs),
      status_code: attempt.statusCode,
      response_excerpt: attempt.excerpt,
      error: attempt.error,
      outcome: decision.action === 'succeeded' ? 'succeeded' : 'failed'
    }).onConflict((oc) => oc.column('id').doNothing()).execute()

    // Fenced by the lease: only the attempt this worker holds. A delivery that a disabling
    // ended while this attempt was in flight (dead, lease kept) stays ended: its failure has
    // no say on the endpoint any more (no streak, no second disable after a re-enable).
    const held = await trx.selectFrom('webhook_deliveries').select('status')
      .where('id', '=', claimed.id).where('lease_owner', '=', owner).where('attempts', '=', claimed.attempt)
      .forUpdate().executeTakeFirst()
    if (held === undefined) return { recorded: false, endpointDisabled: false }
    const endedMeanwhile = held.status === 'dead'
    const state = endedMeanwhile && decision.action !== 'succeeded' ? {} : deliveryState(decision, now)
    const updated = await trx.updateTable('webhook_deliveries').set({
      ...state,
      last_status_code: attempt.statusCode,
      last_error: attempt.error,
      last_attempt_at: attempt.at,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now
    }).where('id', '=', claimed.id).where('lease_owner', '=', owner).where('attempts', '=', claimed.attempt)
      .returning('id').executeTakeFirst()
    if (updated === undefined) return { recorded: false, endpointDisabled: false }
    if (endedMeanwhile && decision.action !== 'succeeded') return { recorded: true, endpointDisabled: false }

    if (decision.action === 'succeeded') {
      await trx.updateTable('webhook_endpoints').set({ failing_since: null })
        .where('id', '=', claimed.endpointId).where('failing_since', '<=', attempt.at).execute()
      return { recorded: true, endpointDisabled: false }
    }
    if (decision.action === 'disable_endpoint') {
      return { recorded: true, endpointDisabled: await disableEndpoint(trx, deps, claimed.endpointId, 'gone', now) }
    }
    const ep = await trx.updateTable('webhook_endpoints').set({ failing_since: sql<Date>`coalesce(failing_since, ${attempt.at})` })
      .where('id', '=', claimed.endpointId).returning('failing_since').executeTakeFirst()
    const failingSince = ep?.failing_since ? new Date(ep.failing_since) : null
    const disabled = shouldDisableEndpoint(failingSince, now) && await disableEndpoint(trx, deps, claimed.endpointId, 'failing', now)
    return { recorded: true, endpointDisabled: disabled }
  })
}

function deliveryState (decision: Decision, now: Date) {
  switch (decision.action) {
    case 'succeeded': return { status: 'succeeded', succeeded_at: now, dead_at: null }
    case 'retry': return { status: 'retrying', next_attempt_at: decision.at }
    case 'dead':
    case 'disable_endpoint': return { status: 'dead', dead_at: now }
  }
}

/**
 * Ends every waiting delivery of an endpoint being disabled, those in flight included: they
 * become dead now (a recover after re-enabling brings them back). An attempt in flight keeps
 * its lease, so recover leaves it alone until its result is recorded (as a success, or
 * leaving it dead), and a late result cannot act on the endpoint again.
 */
export async function endWaitingDeliveries (trx: Transaction<Database>, endpointId: string, reason: string, now: Date): Promise<void> {
  await trx.updateTable('webhook_deliveries')
    .set({ status: 'dead', dead_at: now, last_error: `endpoint disabled (${reason})`, updated_at: now })
    .where('endpoint_id', '=', endpointId).where('status', 'in', ['pending', 'retrying']).execute()
}

/**
 * Disables an endpoint (410 Gone, or failing for 5 days), ends its waiting deliveries, and
 * records an `endpoint.disabled` event, which other endpoints subscribed to it receive.
 * False when it was already disabled.
 */
export async function disableEndpoint (
  trx: Transaction<Database>, deps: { clock: Clock, random: Random }, endpointId: string, reason: 'gone' | 'failing', now: Date
): Promise<boolean> {
  const ep = await trx.updateTable('webhook_endpoints').set({ enabled: false, disabled_at: now, disabled_reason: reason, updated_at: now })
    .where('id', '=', endpointId).where('enabled', '=', true).returning(['id', 'url', 'failing_since']).executeTakeFirst()
  if (ep === undefined) return false
  await endWaitingDeliveries(trx, endpointId, reason, now)
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
