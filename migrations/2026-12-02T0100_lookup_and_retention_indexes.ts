// Two lookups that scanned whole tables as history grew: accounts by external id alone
// (GET /v1/accounts?external_id=…, 93–174 ms p50 with a million accounts; the unique key leads
// with marketplace), and inbound message ids by age (retention prunes the oldest first).
// Frozen: imports no app code.
import type { Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('accounts_external_id_idx').ifNotExists().on('accounts').column('external_id').execute()
  await db.schema.createIndex('inbound_messages_received_idx').ifNotExists().on('inbound_messages').column('received_at').execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('inbound_messages_received_idx').ifExists().execute()
  await db.schema.dropIndex('accounts_external_id_idx').ifExists().execute()
}
