// Credentials the gateway issues to marketplace customers (the Heroku `<PREFIX>_API_KEY`),
// sealed at rest. `secret_digest` (a keyed digest) finds a key by value without storing it
// in clear; `expires_at` null marks the current credential of its kind.
// Frozen: imports no app code.
import type { Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('account_credentials')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('secret_encrypted', 'text', (c) => c.notNull())
    .addColumn('secret_digest', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    .execute()
  await db.schema.createIndex('account_credentials_account_idx').on('account_credentials')
    .columns(['account_id', 'kind', 'created_at']).execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_credentials').execute()
}
