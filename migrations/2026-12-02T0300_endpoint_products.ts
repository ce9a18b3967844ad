// Webhook endpoints may receive the events of some products only (null: every product).
// Frozen: imports no app code.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints').addColumn('products', sql`text[]`).execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints').dropColumn('products').execute()
}
