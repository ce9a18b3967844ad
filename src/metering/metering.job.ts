import { BatchMeterUsageCommand, type MarketplaceMeteringClient, type UsageRecord } from '@aws-sdk/client-marketplace-metering'
import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { equalJitterBackoff, type Clock, type LeaseStore, type Random } from '../../core/index.js'
import { counterOn } from '../http/metrics.js'
import type { Database } from '../storage/tables.js'
import { recordKey, toBatches, toUsageRecord, type ClaimedHour } from './metering.records.js'
import { addHours, expireAfterMs, finalWindowMs, sendableForMs, startOfHour } from './usage.hours.js'

export const meteringLease = 'aws-metering'
const leaseTtlMs = 10 * 60_000
const retryPolicy = { baseMs: 30_000, capMs: 15 * 60_000 }
/** Errors where the records may succeed later unchanged. */
const transientErrors = new Set(['ThrottlingException', 'InternalServiceErrorException', 'ServiceUnavailableException', 'TimeoutError'])

export interface MeteringRunResult {
  calls: number
  sent: number
  rejected: number
  expired: number
  retrying: number
}

type Item = { mode: 'license' | 'legacy', record: UsageRecord, row: ClaimedHour }
type Outcome =
  | { status: 'sent', meteringStatus: string, recordId: string | undefined }
  | { status: 'rejected' | 'expired', meteringStatus: string | null, error: string }
  | { status: 'retry', error: string }

/**
 * The hourly metering job. Each run, on one instance at a time (a lease row): adds a zero
 * record per configured dimension and closed hour for every subscribed account, expires what
 * AWS would refuse, claims the hours that are due (closed, or the open hour of an account in
 * its final window after unsubscribe-pending), freezes their quantity, and sends them with
 * BatchMeterUsage — ≤ 25 records and < 1 MB a call. Each record's Status is stored with its
 * MeteringRecordId; unprocessed records, throttling and 5xx retry with backoff, always as
 * the identical record; a whole-batch refusal is bisected to isolate the bad record.
 */
export function createMeteringJob (deps: {
  db: Kysely<Database>, clock: Clock, random: Random, leases: LeaseStore, client: MarketplaceMeteringClient
  productCode: string, dimensions: string[] | undefined, logger: Logger, metrics: Registry, owner: string
}) {
  const { db, clock, random, leases, client, logger } = deps
  const records = counterOn(deps.metrics, 'marketgate_metering_records_total', 'Hourly usage records by outcome', ['outcome'] as const)
  const calls = counterOn(deps.metrics, 'marketgate_metering_calls_total', 'BatchMeterUsage calls by result', ['result'] as const)
  const rand01 = () => Buffer.from(random.bytes(4)).readUInt32BE() / 2 ** 32

  async function heartbeats (now: Date): Promise<void> {
    if (!deps.dimensions || deps.dimensions.length === 0) return
    const lastClosed = addHours(startOfHour(now), -1)
    const floor = new Date(startOfHour(now).getTime() - sendableForMs)
    await sql`
      insert into usage_hours (account_id, dimension, hour, quantity, reports, updated_at)
      select a.id, d.dimension, h.hour, 0, 0, ${now}
      from accounts a
      join (select account_id, min(occurred_at) as at from account_events where type = 'account.provisioned' group by account_id) p
        on p.account_id = a.id
      cross join unnest(${deps.dimensions}::text[]) as d(dimension)
      cross join lateral generate_series(
        greatest(date_bin('1 hour', p.at, timestamptz '2000-01-01 00:00:00+00'), ${floor}::timestamptz),
        ${lastClosed}::timestamptz, interval '1 hour') as h(hour)
      where a.marketplace = 'aws' and a.status in ('active', 'suspended')
      on conflict do nothing`.execute(db)
  }

  async function closeOut (now: Date): Promise<void> {
    await sql`update usage_hours set status = 'skipped', last_error = 'the subscription ended before this hour was metered', updated_at = ${now}
      from accounts a where a.id = usage_hours.account_id and a.status in ('cancelled', 'failed') and usage_hours.status = 'pending'`.execute(db)
    const expiredRows = await sql`update usage_hours set status = 'expired', last_error = 'not accepted by AWS within 23 hours of its hour', updated_at = ${now}
      where status in ('pending', 'sending') and hour < ${new Date(now.getTime() - expireAfterMs)}`.execute(db)
    records.inc({ outcome: 'expired' }, Number(expiredRows.numAffectedRows ?? 0))
  }

  async function claim (now: Date): Promise<ClaimedHour[]> {
    const rows = await sql<{ account_id: string, dimension: string, hour: Date, sent_quantity: number, attempts: number, external_id: string, customer_account_id: string | null, customer_identifier: string | null, license_arn: string | null }>`
      with suspended as (
        select account_id, max(occurred_at) as at from account_events where type = 'account.suspended' group by account_id
      ), due as (
        select uh.account_id, uh.dimension, uh.hour from usage_hours uh
        join accounts a on a.id = uh.account_id
        left join suspended s on s.account_id = a.id
        where a.marketplace = 'aws' and (
          (uh.status = 'pending' and a.status in ('active', 'suspended') and (
            uh.hour + interval '1 hour' <= ${now}
            or (a.status = 'suspended' and s.at + ${finalWindowMs} * interval '1 millisecond' <= ${now})))
          or (uh.status = 'sending' and coalesce(uh.next_attempt_at, uh.updated_at) <= ${now}))
        order by uh.hour
        limit 5000
      )
      update usage_hours uh set status = 'sending', sent_quantity = coalesce(uh.sent_quantity, uh.quantity),
        attempts = uh.attempts + 1, next_attempt_at = null, updated_at = ${now}
      from due, accounts a
      where uh.account_id = due.account_id and uh.dimension = due.dimension and uh.hour = due.hour and a.id = uh.account_id
      returning uh.account_id, uh.dimension, uh.hour, uh.sent_quantity, uh.attempts, a.external_id, a.customer_account_id,
        a.metadata->>'customerIdentifier' as customer_identifier, a.metadata->>'licenseArn' as license_arn`.execute(db)
    return rows.rows.map((r) => ({
      accountId: r.account_id, dimension: r.dimension, hour: new Date(r.hour), quantity: Number(r.sent_quantity), attempts: r.attempts,
      externalId: r.external_id, customerAccountId: r.customer_account_id, customerIdentifier: r.customer_identifier, licenseArn: r.license_arn
    }))
  }

  /** Sends one batch; on a whole-batch refusal, halves it until the bad record stands alone. */
  async function send (batch: Item[], stats: MeteringRunResult, outcomes: Map<Item, Outcome>): Promise<void> {
    stats.calls++
    try {
      const res = await client.send(new BatchMeterUsageCommand({
        UsageRecords: batch.map((i) => i.record),
        ...(batch[0]!.mode === 'legacy' ? { ProductCode: deps.productCode } : {})
      }))
      calls.inc({ result: 'ok' })
      const byKey = new Map(batch.map((i) => [recordKey(i.record), i]))
      for (const r of res.Results ?? []) {
        const item = r.UsageRecord && byKey.get(recordKey(r.UsageRecord))
        if (!item) continue
        outcomes.set(item, r.Status === 'Success'
          ? { status: 'sent', meteringStatus: 'Success', recordId: r.MeteringRecordId }
          : { status: 'rejected', meteringStatus: r.Status ?? 'Unknown', error: `AWS answered ${r.Status ?? 'an unknown status'}` })
      }
      for (const u of res.UnprocessedRecords ?? []) {
        const item = byKey.get(recordKey(u))
        if (item) outcomes.set(item, { status: 'retry', error: 'unprocessed by AWS' })
      }
      // A record AWS neither answered nor listed as unprocessed is retried, never assumed sent.
      for (const item of batch) if (!outcomes.has(item)) outcomes.set(item, { status: 'retry', error: 'missing from the answer' })
    } catch (err) {
      const e = err as { name?: string, $fault?: string, $metadata?: { requestId?: string } }
      const name = e.name ?? 'Error'
      calls.inc({ result: name })
      logger.warn({ error: name, requestId: e.$metadata?.requestId, records: batch.length }, 'BatchMeterUsage failed')
      if (transientErrors.has(name) || e.$fault === 'server' || !e.$fault) {
        for (const item of batch) outcomes.set(item, { status: 'retry', error: name })
      } else if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2)
        await send(batch.slice(0, half), stats, outcomes)
        await send(batch.slice(half), stats, outcomes)
      } else {
        outcomes.set(batch[0]!, name === 'TimestampOutOfBoundsException'
          ? { status: 'expired', meteringStatus: null, error: name }
          : { status: 'rejected', meteringStatus: null, error: name })
      }
    }
  }

  async function record (item: Item, outcome: Outcome, now: Date, stats: MeteringRunResult): Promise<void> {
    const row = item.row
    const base = db.updateTable('usage_hours')
      .where('account_id', '=', row.accountId).where('dimension', '=', row.dimension).where('hour', '=', row.hour)
      .where('status', '=', 'sending')
    if (outcome.status === 'retry') {
      stats.retrying++
      const delay = equalJitterBackoff(row.attempts, retryPolicy, rand01())
      await base.set({ next_attempt_at: new Date(now.getTime() + delay), last_error: outcome.error, updated_at: now }).execute()
    } else if (outcome.status === 'sent') {
      stats.sent++
      await base.set({ status: 'sent', metering_status: outcome.meteringStatus, metering_record_id: outcome.recordId ?? null, sent_at: now, last_error: null, updated_at: now }).execute()
    } else {
      if (outcome.status === 'expired') stats.expired++
      else stats.rejected++
      await base.set({ status: outcome.status, metering_status: outcome.meteringStatus, last_error: outcome.error, updated_at: now }).execute()
    }
    records.inc({ outcome: outcome.status })
  }

  /** One run. Undefined when another instance holds the lease. */
  async function runOnce (): Promise<MeteringRunResult | undefined> {
    if (!await leases.tryAcquire(meteringLease, deps.owner, leaseTtlMs)) return undefined
    const stats: MeteringRunResult = { calls: 0, sent: 0, rejected: 0, expired: 0, retrying: 0 }
    try {
      const now = clock.now()
      await heartbeats(now)
      await closeOut(now)
      const claimed = await claim(now)
      const items: Item[] = claimed.map((row) => ({ ...toUsageRecord(row), row }))
      for (const batch of toBatches(items)) {
        const outcomes = new Map<Item, Outcome>()
        await send(batch, stats, outcomes)
        // Fence: renewing our own lease fails if it lapsed and someone else took over.
        if (!await leases.tryAcquire(meteringLease, deps.owner, leaseTtlMs)) {
          logger.warn('metering lease lost; leaving results for the next holder to resend identically')
          return stats
        }
        const at = clock.now()
        for (const [item, outcome] of outcomes) await record(item, outcome, at, stats)
      }
      return stats
    } finally {
      await leases.release(meteringLease, deps.owner)
    }
  }

  return { runOnce }
}

export type MeteringJob = ReturnType<typeof createMeteringJob>
