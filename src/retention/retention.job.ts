import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Logger } from 'pino'
import type { Clock, LeaseStore } from '../../core/index.js'
import { uuidv7Floor } from '../random.js'
import type { Database } from '../storage/tables.js'

const dayMs = 86_400_000

export interface RetentionPolicy {
  /** Age in days after which finished work is deleted: delivered webhooks and their attempts, inbound message ids, finished jobs, sent usage, used login tickets. */
  days: number
  /** Age in days after which account events with no delivery left are deleted; undefined keeps the event log for ever. */
  eventDays: number | undefined
}

export interface RetentionJob {
  /** One pass under the lease: every kind of row, in batches. Returns the rows deleted per kind, or undefined when another instance holds the lease. */
  runOnce(): Promise<Record<string, number> | undefined>
}

/**
 * Deletes what the gateway no longer needs, so that claims and lookups do not work over an
 * ever-growing history. Each statement deletes at most `batchSize` rows picked by an index
 * (short transactions: live work never waits behind a long delete), a pass stops after
 * `maxBatches` per kind (the next pass goes on), and one instance at a time runs it (a lease).
 * What is kept: everything not finished (pending, retrying, dead deliveries and jobs wait for an
 * operator), the accounts, and the event log unless `eventDays` is set.
 */
export function createRetentionJob (deps: {
  db: Kysely<Database>
  clock: Clock
  leases: LeaseStore
  owner: string
  logger: Logger
  policy: RetentionPolicy
  batchSize?: number
  maxBatches?: number
}): RetentionJob {
  const { db, clock, leases, owner, logger, policy } = deps
  const batchSize = deps.batchSize ?? 1000
  const maxBatches = deps.maxBatches ?? 100

  // Rows are found through indexes that already exist: ids are UUIDv7, so "created before the
  // cutoff" is a primary-key range (`id < uuidv7Floor(cutoff)`), and the oldest rows come first.
  const kinds = (now: Date): Array<[string, (limit: number) => RawBuilder<unknown>]> => {
    const cutoff = new Date(now.getTime() - policy.days * dayMs)
    const floor = uuidv7Floor(cutoff)
    const list: Array<[string, (limit: number) => RawBuilder<unknown>]> = [
      // Attempts go with their delivery (on delete cascade).
      ['webhook_deliveries', (limit) => sql`delete from webhook_deliveries where id in (
        select id from webhook_deliveries where id < ${floor}::uuid and status = 'succeeded' and succeeded_at < ${cutoff} order by id limit ${limit})`],
      ['inbound_messages', (limit) => sql`delete from inbound_messages where (marketplace, message_id) in (
        select marketplace, message_id from inbound_messages where received_at < ${cutoff} order by received_at limit ${limit})`],
      ['jobs', (limit) => sql`delete from jobs where id in (
        select id from jobs where id < ${floor}::uuid and status = 'succeeded' and updated_at < ${cutoff} order by id limit ${limit})`],
      ['usage_reports', (limit) => sql`delete from usage_reports where id in (
        select r.id from usage_reports r join usage_hours h on h.account_id = r.account_id and h.dimension = r.dimension and h.hour = r.billed_hour
        where r.id < ${floor}::uuid and h.status <> 'pending' and h.hour < ${cutoff} order by r.id limit ${limit})`],
      ['usage_hours', (limit) => sql`delete from usage_hours where (account_id, dimension, hour) in (
        select account_id, dimension, hour from usage_hours where status in ('sent', 'rejected', 'expired', 'skipped') and hour < ${cutoff} limit ${limit})`],
      ['login_tickets', (limit) => sql`delete from login_tickets where id in (
        select id from login_tickets where id < ${floor}::uuid and expires_at < ${cutoff} order by id limit ${limit})`]
    ]
    if (policy.eventDays !== undefined) {
      const eventCutoff = new Date(now.getTime() - policy.eventDays * dayMs)
      list.push(['account_events', (limit) => sql`delete from account_events where id in (
        select e.id from account_events e where e.id < ${uuidv7Floor(eventCutoff)}::uuid and e.occurred_at < ${eventCutoff}
        and not exists (select 1 from webhook_deliveries d where d.event_id = e.id) order by e.id limit ${limit})`])
    }
    return list
  }

  return {
    async runOnce () {
      const leaseMs = 15 * 60_000
      if (!await leases.tryAcquire('retention', owner, leaseMs)) return undefined
      const deleted: Record<string, number> = {}
      try {
        for (const [kind, statement] of kinds(clock.now())) {
          deleted[kind] = 0
          for (let batch = 0; batch < maxBatches; batch++) {
            const result = await statement(batchSize).execute(db)
            const n = Number(result.numAffectedRows ?? 0)
            deleted[kind] += n
            if (n < batchSize) break
          }
        }
      } finally {
        await leases.release('retention', owner).catch(() => {})
      }
      if (Object.values(deleted).some((n) => n > 0)) logger.info({ deleted }, 'retention: pruned finished work')
      return deleted
    }
  }
}

