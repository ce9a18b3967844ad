// AWS Marketplace: lookups of accounts by the facts AWS messages carry, parked messages
// (dead after repeated failures, or waiting for an account), and leases for periodic jobs.
// Frozen: imports no app code.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // Legacy SNS messages name the CustomerIdentifier, EventBridge events the license id and the
  // agreement, reconciliation wants contract accounts: expression indexes keep those lookups
  // off a sequential scan of accounts.
  for (const fact of ['customerIdentifier', 'licenseId', 'agreementId', 'contract']) {
    await sql.raw(`create index accounts_fact_${fact.toLowerCase()}_idx on accounts (marketplace, (metadata->>'${fact}'))`).execute(db)
  }
  await db.schema.createIndex('accounts_customer_account_idx').on('accounts').columns(['marketplace', 'customer_account_id']).execute()

  await db.schema.createTable('parked_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('marketplace', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('dead','waiting')`))
    .addColumn('match_key', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('body', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('parked_messages_marketplace_message_id_key', ['marketplace', 'message_id'])
    .execute()
  await db.schema.createIndex('parked_messages_match_idx').on('parked_messages').columns(['marketplace', 'match_key']).execute()

  await db.schema.createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('job_leases').execute()
  await db.schema.dropTable('parked_messages').execute()
  await db.schema.dropIndex('accounts_customer_account_idx').execute()
  for (const fact of ['customerIdentifier', 'licenseId', 'agreementId', 'contract']) {
    await db.schema.dropIndex(`accounts_fact_${fact.toLowerCase()}_idx`).execute()
  }
}
