import type { Kysely, Selectable } from 'kysely'
import type { Clock, Marketplace, ParkedMessage, ParkedMessageStore, Random } from '../../core/index.js'
import { transactionOf } from './account.store.js'
import { pageOf } from './cursor.js'
import type { Database, ParkedMessageTable } from './tables.js'

type Row = Selectable<ParkedMessageTable>

function rowToParked (row: Row): ParkedMessage {
  return {
    id: row.id,
    marketplace: row.marketplace as Marketplace,
    source: row.source,
    messageId: row.message_id,
    state: row.state as ParkedMessage['state'],
    matchKey: row.match_key,
    reason: row.reason,
    attempts: row.attempts,
    body: row.body,
    createdAt: new Date(row.created_at)
  }
}

/** Parked marketplace messages: the visible dead state of the SQS poller, and messages waiting for an account. */
export function createParkedMessageStore (deps: { db: Kysely<Database>, clock: Clock, random: Random }): ParkedMessageStore {
  const { db, clock, random } = deps
  return {
    async park (m) {
      await db.insertInto('parked_messages').values({
        id: random.uuid(),
        marketplace: m.marketplace,
        source: m.source,
        message_id: m.messageId,
        state: m.state,
        match_key: m.matchKey,
        reason: m.reason,
        attempts: m.attempts,
        body: JSON.stringify(m.body ?? null),
        created_at: clock.now()
      }).onConflict((oc) => oc.columns(['marketplace', 'message_id']).doUpdateSet((eb) => ({
        state: eb.ref('excluded.state'),
        match_key: eb.ref('excluded.match_key'),
        reason: eb.ref('excluded.reason'),
        attempts: eb.ref('excluded.attempts')
      }))).execute()
    },
    async list (filter, page) {
      let q = db.selectFrom('parked_messages').selectAll()
      if (filter.marketplace) q = q.where('marketplace', '=', filter.marketplace)
      if (filter.state) q = q.where('state', '=', filter.state)
      if (page.after) q = q.where('id', '>', page.after)
      const rows = await q.orderBy('id').limit(page.limit + 1).execute()
      return pageOf(rows.map((r) => rowToParked(r)), page.limit)
    },
    async listWaiting (marketplace, matchKey) {
      const rows = await db.selectFrom('parked_messages').selectAll()
        .where('marketplace', '=', marketplace).where('state', '=', 'waiting').where('match_key', '=', matchKey)
        .orderBy('created_at').orderBy('id').limit(100).execute()
      return rows.map((r) => rowToParked(r))
    },
    async removeWithin (tx, id) {
      await transactionOf(tx).deleteFrom('parked_messages').where('id', '=', id).execute()
    },
    async remove (id) {
      await db.deleteFrom('parked_messages').where('id', '=', id).execute()
    }
  }
}
