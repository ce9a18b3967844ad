// Every decision of the vendor's hook (contract §7): which question, which outcome, how long it
// took. Never the config the vendor handed out (it may hold secrets; that is sealed elsewhere).
// Frozen: imports no app code.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('hook_decisions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // The webhook-id of the ask: the same for every ask of one question.
    .addColumn('question_id', 'text', (c) => c.notNull())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('marketplace', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('plan', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    // The vendor's message (allowed, refused) or why there was no decision (undecided).
    .addColumn('message', 'text')
    .addColumn('status_code', 'integer')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('decided_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('hook_decisions_outcome_check', sql`outcome in ('allowed','refused','undecided')`)
    .execute()
  // "Was this question refused already?" on every ask.
  await db.schema.createIndex('hook_decisions_question_idx').on('hook_decisions').columns(['question_id', 'outcome']).execute()
  await db.schema.createIndex('hook_decisions_account_idx').on('hook_decisions').columns(['marketplace', 'external_id']).execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('hook_decisions').execute()
}
