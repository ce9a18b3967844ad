import { sql, type Kysely, type Transaction } from 'kysely'
import { MarketgateError, type Clock, type Marketplace, type Random } from '../../core/index.js'
import type { Database } from '../storage/tables.js'
import { addHours, finalWindowMs, sendableForMs, startOfHour } from './usage.hours.js'

export interface UsageInput {
  accountId?: string
  /** With marketplace and externalId: the account's product (default: the ingest's product). */
  product?: string
  marketplace?: Marketplace
  externalId?: string
  dimension: string
  quantity: number
  timestamp?: Date
  idempotencyKey?: string
}

export interface IngestResult {
  accepted: number
  duplicates: number
  /** Reports whose own hour was already metered (or too old), now billed in a later hour. */
  carried: number
}

const maxClockSkewMs = 5 * 60_000

/**
 * Records usage reports and adds them to their hourly aggregate, all in one transaction:
 * every record of a batch is valid and written, or none is. A repeated idempotency key
 * counts once. Usage for an hour already sent to AWS (whose quantity AWS will not change)
 * is billed in the current hour, and the report says so (`billed_hour`).
 */
export function createUsageIngest (deps: { db: Kysely<Database>, clock: Clock, random: Random, dimensions: string[] | undefined, product: string }) {
  const { db, clock, random } = deps

  async function resolveAccounts (trx: Transaction<Database>, records: UsageInput[], now: Date) {
    const ids = [...new Set(records.flatMap((r) => r.accountId ? [r.accountId] : []))]
    const keys = records.filter((r) => !r.accountId && r.marketplace && r.externalId)
    const productOf = (r: UsageInput) => r.product ?? deps.product
    let q = trx.selectFrom('accounts').select(['id', 'product', 'marketplace', 'external_id', 'status'])
      .select((eb) => eb.selectFrom('account_events').select(sql<Date>`max(occurred_at)`.as('at'))
        .whereRef('account_events.account_id', '=', 'accounts.id').where('type', '=', 'account.suspended').as('suspended_at'))
    q = q.where((eb) => eb.or([
      ids.length > 0 ? eb('id', 'in', ids) : sql<boolean>`false`,
      ...keys.map((k) => eb.and([eb('product', '=', productOf(k)), eb('marketplace', '=', k.marketplace!), eb('external_id', '=', k.externalId!)]))
    ]))
    const rows = await q.execute()
    const errors: string[] = []
    const resolved = records.map((r, index) => {
      const row = rows.find((a) => r.accountId ? a.id === r.accountId : a.product === productOf(r) && a.marketplace === r.marketplace && a.external_id === r.externalId)
      const at = r.timestamp ?? now
      if (row === undefined) { errors.push(`record ${index}: unknown account`); return undefined }
      if (row.marketplace !== 'aws') { errors.push(`record ${index}: usage is metered for AWS Marketplace accounts only`); return undefined }
      const finalEnd = row.suspended_at ? new Date(row.suspended_at).getTime() + finalWindowMs : 0
      const open = row.status === 'active' || (row.status === 'suspended' && now.getTime() < finalEnd)
      if (!open) errors.push(`record ${index}: account is ${row.status}${row.status === 'suspended' ? ' past its final metering window' : ''}`)
      if (deps.dimensions && !deps.dimensions.includes(r.dimension)) errors.push(`record ${index}: unknown dimension "${r.dimension}"`)
      if (at.getTime() > now.getTime() + maxClockSkewMs) errors.push(`record ${index}: timestamp is in the future`)
      return { accountId: row.id, at }
    })
    if (errors.length > 0) {
      throw new MarketgateError('VALIDATION_FAILED', errors.slice(0, 5).join('; ') + (errors.length > 5 ? `; and ${errors.length - 5} more` : ''))
    }
    return resolved as Array<{ accountId: string, at: Date }>
  }

  async function ingest (records: UsageInput[]): Promise<IngestResult> {
    const now = clock.now()
    const current = startOfHour(now)
    return db.transaction().execute(async (trx) => {
      const resolved = await resolveAccounts(trx, records, now)
      const rows = records.map((r, i) => {
        const hour = startOfHour(resolved[i]!.at)
        // Too old to send safely: bill it now rather than lose it.
        const billed = now.getTime() - hour.getTime() > sendableForMs ? current : hour
        return {
          id: random.uuid(), account_id: resolved[i]!.accountId, dimension: r.dimension, quantity: r.quantity,
          occurred_at: resolved[i]!.at, usage_hour: hour, billed_hour: billed, idempotency_key: r.idempotencyKey ?? null, created_at: now
        }
      })
      const inserted = await trx.insertInto('usage_reports').values(rows)
        .onConflict((oc) => oc.columns(['account_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
        .returning(['id', 'account_id', 'dimension', 'quantity', 'billed_hour']).execute()

      let carried = 0
      let pending = aggregate(inserted.map((r) => ({ ...r, billed_hour: new Date(r.billed_hour) })))
      // Two rounds: the usage's own hour, then, for hours already sent, the current hour
      // (and the next one if even that was flushed early for a suspended account).
      for (let round = 0; round < 3 && pending.length > 0; round++) {
        const done = await addToHours(trx, pending, now)
        const left = pending.filter((g) => !done.has(groupKey(g)))
        if (left.length === 0) break
        const target = round === 0 ? current : addHours(current, round)
        const moved = left.map((g) => ({ ...g, hour: target }))
        for (const g of left) {
          carried += g.ids.length
          await trx.updateTable('usage_reports').set({ billed_hour: target }).where('id', 'in', g.ids).execute()
        }
        pending = merge(moved)
      }
      return { accepted: inserted.length, duplicates: rows.length - inserted.length, carried }
    })
  }

  async function addToHours (trx: Transaction<Database>, groups: Group[], now: Date): Promise<Set<string>> {
    const updated = await trx.insertInto('usage_hours')
      .values(groups.map((g) => ({ account_id: g.accountId, dimension: g.dimension, hour: g.hour, quantity: g.quantity, reports: g.ids.length, updated_at: now })))
      .onConflict((oc) => oc.columns(['account_id', 'dimension', 'hour']).doUpdateSet({
        quantity: sql`usage_hours.quantity + excluded.quantity`,
        reports: sql`usage_hours.reports + excluded.reports`,
        updated_at: now
      }).where('usage_hours.status', '=', 'pending'))
      .returning(['account_id', 'dimension', 'hour']).execute()
    return new Set(updated.map((u) => groupKey({ accountId: u.account_id, dimension: u.dimension, hour: new Date(u.hour) })))
  }

  return { ingest }
}

interface Group { accountId: string, dimension: string, hour: Date, quantity: number, ids: string[] }
const groupKey = (g: { accountId: string, dimension: string, hour: Date }) => `${g.accountId}|${g.dimension}|${g.hour.getTime()}`

function aggregate (rows: Array<{ id: string, account_id: string, dimension: string, quantity: number, billed_hour: Date }>): Group[] {
  return merge(rows.map((r) => ({ accountId: r.account_id, dimension: r.dimension, hour: r.billed_hour, quantity: Number(r.quantity), ids: [r.id] })))
}

function merge (groups: Group[]): Group[] {
  const map = new Map<string, Group>()
  for (const g of groups) {
    const k = groupKey(g)
    const m = map.get(k)
    if (m) { m.quantity += g.quantity; m.ids.push(...g.ids) } else map.set(k, { ...g, ids: [...g.ids] })
  }
  return [...map.values()]
}

export type UsageIngest = ReturnType<typeof createUsageIngest>
