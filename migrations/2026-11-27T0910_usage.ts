// Usage metering: every report the vendor sends (deduplicated by idempotency key), the hourly
// aggregate per (account, dimension, hour) that is metered exactly once.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('usage_reports')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('dimension', 'text', (c) => c.notNull())
    .addColumn('quantity', 'bigint', (c) => c.notNull().check(sql`quantity >= 0`))
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    // The hour the usage happened in, and the hour it is billed in: later when its own hour
    // had already been metered (AWS keeps the first quantity sent for an hour).
    .addColumn('usage_hour', 'timestamptz', (c) => c.notNull())
    .addColumn('billed_hour', 'timestamptz', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('usage_reports_idempotency_key').unique().on('usage_reports')
    .columns(['account_id', 'idempotency_key']).where(sql.ref('idempotency_key'), 'is not', null).execute()

  await db.schema.createTable('usage_hours')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('dimension', 'text', (c) => c.notNull())
    .addColumn('hour', 'timestamptz', (c) => c.notNull())
    .addColumn('quantity', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reports', 'integer', (c) => c.notNull().defaultTo(0))
    // pending → sending (quantity frozen in sent_quantity) → sent | rejected | expired | skipped
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('sent_quantity', 'bigint')
    .addColumn('metering_status', 'text')
    .addColumn('metering_record_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_hours_pkey', ['account_id', 'dimension', 'hour'])
    .execute()
  await db.schema.createIndex('usage_hours_status_idx').on('usage_hours').columns(['status', 'hour']).execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  for (const t of ['usage_hours', 'usage_reports']) await db.schema.dropTable(t).execute()
}
