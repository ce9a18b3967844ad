import { sql, type Kysely } from 'kysely'
import type { AccountLookup } from '../../core/index.js'
import { pageOf } from './cursor.js'
import { rowToAccount } from './account.store.js'
import type { Database } from './tables.js'

/**
 * Account lookups by metadata facts and by customer cloud account. The fact name is a bound
 * parameter (`metadata->>$1`), so no caller can inject SQL through it; the facts AWS uses are
 * indexed by the 2026-11-27T0900 migration.
 */
export function createAccountLookup (db: Kysely<Database>): AccountLookup {
  return {
    async findAccountsByFact (scope, name, value, page) {
      let q = db.selectFrom('accounts').selectAll()
        .where('product', '=', scope.product).where('marketplace', '=', scope.marketplace)
        .where(sql<string>`metadata->>${name}`, '=', value)
      if (page.after) q = q.where('id', '>', page.after)
      const rows = await q.orderBy('id').limit(page.limit + 1).execute()
      return pageOf(rows.map(rowToAccount), page.limit)
    },
    async findAccountsByCustomerAccountId (scope, customerAccountId) {
      const rows = await db.selectFrom('accounts').selectAll()
        .where('product', '=', scope.product).where('marketplace', '=', scope.marketplace).where('customer_account_id', '=', customerAccountId)
        .orderBy('id').limit(100).execute()
      return rows.map(rowToAccount)
    },
    async findInboundMessage (marketplace, messageId) {
      const row = await db.selectFrom('inbound_messages').select('payload')
        .where('marketplace', '=', marketplace).where('message_id', '=', messageId).executeTakeFirst()
      return row && { payload: row.payload }
    }
  }
}
