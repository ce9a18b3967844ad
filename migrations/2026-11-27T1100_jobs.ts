// A generic durable job queue (calls to marketplace APIs that must survive a crash and be
// retried), and the OAuth tokens Heroku grants per add-on resource, sealed at rest.
// Frozen: imports no app code.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('account_id', 'uuid', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // The part of a job that is a credential (a grant code, vendor config values), sealed.
    .addColumn('secret_encrypted', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_at', 'timestamptz', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'timestamptz')
    .addColumn('last_error', 'text')
    // Jobs that must exist once (per account and purpose): a second enqueue is a no-op.
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('jobs_status_check', sql`status in ('pending','running','succeeded','dead')`)
    .execute()
  // The claim scans due rows of a few statuses, oldest first.
  await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['status', 'run_at'])
    .where(sql<boolean>`status in ('pending','running')`).execute()
  await db.schema.createIndex('jobs_account_idx').on('jobs').columns(['account_id', 'created_at']).execute()

  await db.schema.createTable('oauth_tokens')
    .addColumn('account_id', 'uuid', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('access_token_encrypted', 'text', (c) => c.notNull())
    .addColumn('refresh_token_encrypted', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oauth_tokens').execute()
  await db.schema.dropTable('jobs').execute()
}
