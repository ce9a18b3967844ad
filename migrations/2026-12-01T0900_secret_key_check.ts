// The secret-key check: one known value sealed under MARKETGATE_SECRET_KEY, written at the
// first start (or by rotate-secret-key). A start whose key cannot open it stops, instead of
// serving and failing later on every sealed secret (issue 12).
// Frozen: imports no app code.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('secret_key_check')
    // One row: the id is a fixed name, so two instances starting at once cannot both write one.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('secret_key_check').execute()
}
