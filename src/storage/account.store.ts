import { sql, type Kysely, type Transaction } from 'kysely'
import type {
  Account, AccountKey, AccountReader, AccountStatus, Clock, Entitlement, LifecycleEvent, LifecycleStore,
  LifecycleTx, Marketplace, Random, StoredEvent
} from '../../core/index.js'
import type { AccountEventRow, AccountRow, Database } from './tables.js'
import { pageOf } from './cursor.js'

export const outboxChannel = 'marketgate_outbox'

// The Kysely transaction behind each LifecycleTx we hand out, so that other stores (credentials)
// can write in the same transaction without widening the core port.
const transactions = new WeakMap<LifecycleTx, Transaction<Database>>()

/** The Kysely transaction behind a LifecycleTx of this store; throws for any other. */
export function transactionOf (tx: LifecycleTx): Transaction<Database> {
  const trx = transactions.get(tx)
  if (trx === undefined) throw new Error('not a transaction of the account store')
  return trx
}

export function rowToAccount (row: AccountRow): Account {
  return {
    id: row.id,
    marketplace: row.marketplace as Marketplace,
    externalId: row.external_id,
    customerAccountId: row.customer_account_id,
    plan: row.plan,
    status: row.status as AccountStatus,
    metadata: row.metadata,
    entitlements: row.entitlements as Entitlement[],
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    version: row.version
  }
}

export function rowToEvent (row: AccountEventRow): StoredEvent {
  return {
    id: row.id,
    accountId: row.account_id,
    type: row.type as StoredEvent['type'],
    data: row.data,
    occurredAt: new Date(row.occurred_at)
  }
}

export async function lockAccountByKey (trx: Transaction<Database>, key: AccountKey): Promise<Account | undefined> {
  const row = await trx.selectFrom('accounts').selectAll()
    .where('marketplace', '=', key.marketplace).where('external_id', '=', key.externalId)
    .forUpdate().executeTakeFirst()
  return row && rowToAccount(row)
}

export async function lockAccountById (trx: Transaction<Database>, id: string): Promise<Account | undefined> {
  const row = await trx.selectFrom('accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
  return row && rowToAccount(row)
}

/**
 * Appends events and fans each out to the outbox: one delivery per enabled endpoint whose
 * filter (null = every event) names its type. Runs inside the caller's transaction.
 */
export async function appendEvents (
  trx: Transaction<Database>, deps: { clock: Clock, random: Random }, accountId: string | null, events: LifecycleEvent[]
): Promise<StoredEvent[]> {
  if (events.length === 0) return []
  const now = deps.clock.now()
  const rows = events.map((e) => ({ id: deps.random.uuid(), account_id: accountId, type: e.type, data: JSON.stringify(e.data), occurred_at: now }))
  // The account as this change left it, so every attempt of every webhook sends the same body.
  const snapshot = accountId === null ? null : sql<string>`(select to_jsonb(a) from accounts a where a.id = ${accountId})`
  // One statement: the events, one delivery per enabled endpoint whose filter names the
  // event, and the NOTIFY (a latency hint for listening workers; polling remains the truth).
  // Four round trips became one: provisioning spends most of its time waiting on them.
  // A delivery's id is its event's UUIDv7 with the node bits taken from the endpoint, so
  // deliveries sort by event time and stay unique per (event, endpoint).
  const values = sql.join(rows.map((r) => sql`(${r.id}::uuid, ${r.account_id}::uuid, ${r.type}, ${r.data}::jsonb, ${r.occurred_at}::timestamptz, ${snapshot})`))
  await sql`
    with ev as (
      insert into account_events (id, account_id, type, data, occurred_at, account_snapshot)
      values ${values}
      returning id, type
    ), ins as (
      insert into webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
      select overlay(ev.id::text placing substr(md5(ep.id::text), 1, 12) from 25 for 12)::uuid, ev.id, ep.id, ${now}, ${now}, ${now}
      from ev join webhook_endpoints ep on ep.enabled and (ep.events is null or ev.type = any(ep.events))
      returning 1
    )
    select pg_notify(${outboxChannel}, '') from (select 1 from ins limit 1) as any_delivery`.execute(trx)
  return rows.map((r) => ({ id: r.id, accountId, type: r.type, data: JSON.parse(r.data) as Record<string, unknown>, occurredAt: now }))
}

/** The lifecycle store over Kysely: each `transaction` is one database transaction. */
export function createAccountStore (deps: { db: Kysely<Database>, clock: Clock, random: Random }): LifecycleStore & AccountReader {
  const { db, clock, random } = deps

  function txPort (trx: Transaction<Database>): LifecycleTx {
    const port: LifecycleTx = {
      lockAccountByKey: (key) => lockAccountByKey(trx, key),
      lockAccountById: (id) => lockAccountById(trx, id),
      async insertAccount (draft) {
        const now = clock.now()
        const row = await trx.insertInto('accounts').values({
          id: random.uuid(),
          marketplace: draft.marketplace,
          external_id: draft.externalId,
          customer_account_id: draft.customerAccountId ?? null,
          plan: draft.plan ?? null,
          status: draft.status,
          metadata: JSON.stringify(draft.metadata ?? {}),
          entitlements: JSON.stringify(draft.entitlements ?? []),
          created_at: now,
          updated_at: now
        }).onConflict((oc) => oc.columns(['marketplace', 'external_id']).doNothing())
          .returningAll().executeTakeFirst()
        return row && rowToAccount(row)
      },
      async updateAccount (id, state) {
        const row = await trx.updateTable('accounts').set({
          status: state.status,
          plan: state.plan,
          customer_account_id: state.customerAccountId,
          metadata: JSON.stringify(state.metadata),
          entitlements: JSON.stringify(state.entitlements),
          updated_at: clock.now(),
          version: sql<number>`version + 1`
        }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
        return rowToAccount(row)
      },
      appendEvents: (accountId, events) => appendEvents(trx, { clock, random }, accountId, events),
      async recordInboundMessage (marketplace, messageId, payload) {
        const row = await trx.insertInto('inbound_messages')
          .values({ marketplace, message_id: messageId, payload: JSON.stringify(payload ?? null), received_at: clock.now() })
          .onConflict((oc) => oc.columns(['marketplace', 'message_id']).doNothing())
          .returning('message_id').executeTakeFirst()
        return row !== undefined
      }
    }
    transactions.set(port, trx)
    return port
  }

  return {
    transaction: (fn) => db.transaction().execute((trx) => fn(txPort(trx))),

    async getAccount (id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()
      return row && rowToAccount(row)
    },
    async findAccount (key) {
      const row = await db.selectFrom('accounts').selectAll()
        .where('marketplace', '=', key.marketplace).where('external_id', '=', key.externalId).executeTakeFirst()
      return row && rowToAccount(row)
    },
    async listAccounts (filter, page) {
      let q = db.selectFrom('accounts').selectAll()
      if (filter.marketplace) q = q.where('marketplace', '=', filter.marketplace)
      if (filter.status) q = q.where('status', '=', filter.status)
      if (filter.externalId) q = q.where('external_id', '=', filter.externalId)
      if (page.after) q = q.where('id', '>', page.after)
      const rows = await q.orderBy('id').limit(page.limit + 1).execute()
      return pageOf(rows.map(rowToAccount), page.limit)
    },
    async listEvents (accountId, page) {
      let q = db.selectFrom('account_events').selectAll().where('account_id', '=', accountId)
      if (page.after) q = q.where('id', '>', page.after)
      const rows = await q.orderBy('id').limit(page.limit + 1).execute()
      return pageOf(rows.map(rowToEvent), page.limit)
    }
  }
}
