import { sql, type Kysely, type Transaction } from 'kysely'
import type {
  Account, AccountKey, AccountReader, AccountStatus, Clock, Entitlement, LifecycleStore,
  LifecycleTx, Marketplace, Random, StoredEvent
} from '../../core/index.js'
import type { AccountEventRow, AccountRow, Database } from './tables.js'
import { createAccounts, type NewAccount } from './account.create.js'
import { createBatcher } from './create.batcher.js'
import { insertAttachments } from './attachment.js'
import { pageOf } from './cursor.js'
import { appendEvents } from './event-log.js'

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
    product: row.product,
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
    .where('product', '=', key.product).where('marketplace', '=', key.marketplace).where('external_id', '=', key.externalId)
    .forUpdate().executeTakeFirst()
  return row && rowToAccount(row)
}

export async function lockAccountById (trx: Transaction<Database>, id: string): Promise<Account | undefined> {
  const row = await trx.selectFrom('accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
  return row && rowToAccount(row)
}

/**
 * Errors a single row can cause: data exceptions (class 22), constraint violations (23) and a
 * deadlock or serialization failure (40P01, 40001). A lost connection or a timeout is not.
 */
function rowError (err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '40P01' || code === '40001')
}

/** The lifecycle store over Kysely: each `transaction` is one database transaction. */
export function createAccountStore (deps: { db: Kysely<Database>, clock: Clock, random: Random }): LifecycleStore & AccountReader {
  const { db, clock, random } = deps
  const createOne = createBatcher({ write: (items: NewAccount[]) => createAccounts(db, { clock, random }, items), oneItemMayCause: rowError })

  function txPort (trx: Transaction<Database>): LifecycleTx {
    const port: LifecycleTx = {
      lockAccountByKey: (key) => lockAccountByKey(trx, key),
      lockAccountById: (id) => lockAccountById(trx, id),
      async insertAccount (draft) {
        const now = clock.now()
        const row = await trx.insertInto('accounts').values({
          id: random.uuid(),
          product: draft.product,
          marketplace: draft.marketplace,
          external_id: draft.externalId,
          customer_account_id: draft.customerAccountId ?? null,
          plan: draft.plan ?? null,
          status: draft.status,
          metadata: JSON.stringify(draft.metadata ?? {}),
          entitlements: JSON.stringify(draft.entitlements ?? []),
          created_at: now,
          updated_at: now
        }).onConflict((oc) => oc.columns(['product', 'marketplace', 'external_id']).doNothing())
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
      },
      attach: (accountId, attachments) => insertAttachments(trx, accountId, attachments)
    }
    transactions.set(port, trx)
    return port
  }

  return {
    transaction: (fn) => db.transaction().execute((trx) => fn(txPort(trx))),
    async create (draft, events, attachments) {
      const written = await createOne({ draft, events, attachments })
      return written && { account: rowToAccount(written.account), events: written.events }
    },

    async getAccount (id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()
      return row && rowToAccount(row)
    },
    async findAccount (key) {
      const row = await db.selectFrom('accounts').selectAll()
        .where('product', '=', key.product).where('marketplace', '=', key.marketplace).where('external_id', '=', key.externalId)
        .executeTakeFirst()
      return row && rowToAccount(row)
    },
    async listAccounts (filter, page) {
      let q = db.selectFrom('accounts').selectAll()
      if (filter.product) q = q.where('product', '=', filter.product)
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
