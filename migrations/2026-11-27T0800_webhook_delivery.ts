// Webhook delivery: secret rotation and endpoint health on endpoints, outcome columns on
// deliveries, one row per attempt, and the account as it was when each event happened (so a
// retry days later sends the same body). Frozen: imports no app code.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints')
    .addColumn('previous_secret_encrypted', 'text')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .addColumn('failing_since', 'timestamptz')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('disabled_reason', 'text')
    .execute()

  await db.schema.alterTable('webhook_deliveries')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'timestamptz')
    .addColumn('succeeded_at', 'timestamptz')
    .addColumn('dead_at', 'timestamptz')
    .execute()
  await db.schema.alterTable('webhook_deliveries')
    .addCheckConstraint('webhook_deliveries_status_check', sql`status in ('pending','retrying','succeeded','dead')`)
    .execute()
  await db.schema.createIndex('webhook_deliveries_endpoint_status_idx').on('webhook_deliveries')
    .columns(['endpoint_id', 'status', 'created_at']).execute()

  await db.schema.createTable('webhook_delivery_attempts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('delivery_id', 'uuid', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('worker', 'text', (c) => c.notNull())
    .addColumn('attempted_at', 'timestamptz', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('response_excerpt', 'text')
    .addColumn('error', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('webhook_delivery_attempts_delivery_idx').on('webhook_delivery_attempts')
    .columns(['delivery_id', 'id']).execute()

  await db.schema.alterTable('account_events').addColumn('account_snapshot', 'jsonb').execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('account_events').dropColumn('account_snapshot').execute()
  await db.schema.dropTable('webhook_delivery_attempts').execute()
  await db.schema.dropIndex('webhook_deliveries_endpoint_status_idx').execute()
  await db.schema.alterTable('webhook_deliveries').dropConstraint('webhook_deliveries_status_check').execute()
  for (const c of ['last_status_code', 'last_error', 'last_attempt_at', 'succeeded_at', 'dead_at']) {
    await db.schema.alterTable('webhook_deliveries').dropColumn(c).execute()
  }
  for (const c of ['previous_secret_encrypted', 'previous_secret_expires_at', 'failing_since', 'disabled_at', 'disabled_reason']) {
    await db.schema.alterTable('webhook_endpoints').dropColumn(c).execute()
  }
}
