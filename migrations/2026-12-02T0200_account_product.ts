// Every account belongs to a product (CONTRACT §6): `accounts.product`, in the unique key
// (product, marketplace, external_id), and the AWS one-account-per-CustomerIdentifier index
// per product (one customer buying two products is two accounts). Existing accounts, and the
// account snapshots their events carry (webhook bodies, replays included, are built from
// them), get the deployment's product id, which src/storage/migrate.ts hands over as the
// session setting `marketgate.product_id` on the migrating connection. Frozen: imports no app
// code and reads no process.env.
import { sql, type Kysely } from 'kysely'

const productPattern = /^[a-z0-9][a-z0-9-]{0,62}$/

export async function up (db: Kysely<unknown>): Promise<void> {
  // A setting once set in a session reads '' after a reset, not null: both mean "not given".
  const { rows } = await sql<{ id: string }>`
    select coalesce(nullif(current_setting('marketgate.product_id', true), ''), 'default') as id`.execute(db)
  const product = rows[0]!.id
  if (!productPattern.test(product)) throw new Error('marketgate.product_id is not a product id (^[a-z0-9][a-z0-9-]{0,62}$)')

  // A constant default fills existing rows without rewriting the table (Postgres 11+ keeps it
  // as the column's missing value); dropped at once, so every insert names its product.
  await sql`alter table accounts add column product text not null default ${sql.lit(product)}`.execute(db)
  await sql`alter table accounts alter column product drop default`.execute(db)
  await sql`alter table accounts drop constraint accounts_marketplace_external_id_key`.execute(db)
  await sql`alter table accounts add constraint accounts_product_marketplace_external_id_key
    unique (product, marketplace, external_id)`.execute(db)

  await sql`drop index accounts_aws_customer_identifier_key`.execute(db)
  await sql`create unique index accounts_aws_customer_identifier_key on accounts (product, (metadata->>'customerIdentifier'))
    where marketplace = 'aws' and metadata->>'customerIdentifier' is not null`.execute(db)

  await sql`update account_events set account_snapshot = account_snapshot || jsonb_build_object('product', ${product}::text)
    where account_snapshot is not null and not account_snapshot ? 'product'`.execute(db)
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await sql`drop index accounts_aws_customer_identifier_key`.execute(db)
  await sql`create unique index accounts_aws_customer_identifier_key on accounts ((metadata->>'customerIdentifier'))
    where marketplace = 'aws' and metadata->>'customerIdentifier' is not null`.execute(db)
  await sql`alter table accounts drop constraint accounts_product_marketplace_external_id_key`.execute(db)
  await sql`alter table accounts add constraint accounts_marketplace_external_id_key unique (marketplace, external_id)`.execute(db)
  await sql`update account_events set account_snapshot = account_snapshot - 'product' where account_snapshot is not null`.execute(db)
  await sql`alter table accounts drop column product`.execute(db)
}
