// AWS: one account per CustomerIdentifier. Accounts are found before the transaction that
// writes them, so a registration (keyed by LicenseArn) racing a legacy SNS message (keyed by
// CustomerIdentifier) could create two accounts for one customer; this index makes the
// second writer fail, and the provider then finds the first account and applies there.
// Frozen: imports no app code.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await sql`create unique index accounts_aws_customer_identifier_key on accounts ((metadata->>'customerIdentifier'))
    where marketplace = 'aws' and metadata->>'customerIdentifier' is not null`.execute(db)
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('accounts_aws_customer_identifier_key').execute()
}
