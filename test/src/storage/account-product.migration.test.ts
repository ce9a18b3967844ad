import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { FileMigrationProvider, Migrator, sql, type Kysely } from 'kysely'
import { createAccountStore, rowToAccount } from '../../../src/storage/account.store.js'
import { openDatabase, type DatabaseHandle } from '../../../src/storage/database.js'
import { migrateToLatest, migrationsFolder } from '../../../src/storage/migrate.js'
import type { AccountRow, Database } from '../../../src/storage/tables.js'
import { FakeClock } from '../../helpers/clock.js'
import { createTestDatabase, onPostgres } from '../../helpers/database.js'
import { createRandom } from '../../../src/random.js'

// The product migration on a database that already holds accounts and events, as a gateway
// upgraded in place has them: migrated up to the migration before it, filled through the old
// schema, then migrated to the latest with the environment's product id.
const before = '2026-12-02T0100_lookup_and_retention_indexes'
const uuid = '01234567-89ab-cdef-0123-456789abcdef'
const ids = { heroku: '00000000-0000-7000-8000-000000000001', aws: '00000000-0000-7000-8000-000000000002' }

async function emptyDatabase (t: { teardown (fn: () => unknown): void }): Promise<DatabaseHandle> {
  if (!onPostgres) {
    const handle = await openDatabase({ url: 'pglite://memory', dataDir: '' })
    t.teardown(() => handle.close())
    return handle
  }
  const handle = await createTestDatabase()
  t.teardown(() => handle.close())
  await sql`drop schema public cascade`.execute(handle.db)
  await sql`create schema public`.execute(handle.db)
  return handle
}

async function migrateToBefore (db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsFolder }), allowUnorderedMigrations: true })
  const { error } = await migrator.migrateTo(before)
  if (error) throw error
}

/** Two accounts, their events with snapshots, a gateway event, as the old schema wrote them. */
async function fillOldSchema (db: Kysely<Database>): Promise<void> {
  const at = '2026-11-27T09:00:00Z'
  await sql`insert into accounts (id, marketplace, external_id, plan, status, metadata, created_at, updated_at) values
    (${ids.heroku}, 'heroku', ${uuid}, 'basic', 'active', '{"region":"eu"}', ${at}, ${at}),
    (${ids.aws}, 'aws', 'arn:aws:license-manager::1:license:l-1', 'pro', 'active', '{"customerIdentifier":"cust-1"}', ${at}, ${at})`.execute(db)
  await sql`insert into account_events (id, account_id, type, data, occurred_at, account_snapshot)
    select gen_random_uuid(), a.id, 'account.provisioned', '{}', ${at}, to_jsonb(a) from accounts a`.execute(db)
  await sql`insert into account_events (id, account_id, type, data, occurred_at, account_snapshot)
    values (gen_random_uuid(), null, 'webhook.test', '{}', ${at}, null)`.execute(db)
}

const insertAccount = (db: Kysely<Database>, product: string, marketplace: string, externalId: string, metadata: Record<string, unknown> = {}) =>
  sql`insert into accounts (id, product, marketplace, external_id, status, metadata, created_at, updated_at)
    values (gen_random_uuid(), ${product}, ${marketplace}, ${externalId}, 'active', ${JSON.stringify(metadata)}::jsonb, now(), now())`.execute(db)

t.test('existing accounts and their event snapshots get the environment\'s product, and the key becomes per product', async (t) => {
  const { db } = await emptyDatabase(t)
  await migrateToBefore(db)
  await fillOldSchema(db)

  const results = await migrateToLatest(db, { productId: 'acme-db' })
  t.ok(results.some((r) => r.migrationName === '2026-12-02T0200_account_product' && r.status === 'Success'))

  const accounts = await db.selectFrom('accounts').select(['id', 'product']).orderBy('id').execute()
  t.same(accounts, [{ id: ids.heroku, product: 'acme-db' }, { id: ids.aws, product: 'acme-db' }])
  const events = await db.selectFrom('account_events').select(['account_id', 'account_snapshot']).orderBy('type').execute()
  t.same(events.map((e) => e.account_snapshot?.product ?? null), ['acme-db', 'acme-db', null], 'account snapshots carry it; a gateway event has none')
  const snapshot = events.find((e) => e.account_id === ids.heroku)!.account_snapshot as unknown as AccountRow
  t.match(rowToAccount(snapshot), { id: ids.heroku, product: 'acme-db', marketplace: 'heroku', externalId: uuid, plan: 'basic' })

  // The store finds the old accounts under their product, and only there.
  const store = createAccountStore({ db, clock: new FakeClock(), random: createRandom(new FakeClock()) })
  t.equal((await store.findAccount({ product: 'acme-db', marketplace: 'heroku', externalId: uuid }))?.id, ids.heroku)
  t.equal(await store.findAccount({ product: 'default', marketplace: 'heroku', externalId: uuid }), undefined)

  // The unique key is (product, marketplace, external_id): the same resource under another product is another account.
  await t.rejects(insertAccount(db, 'acme-db', 'heroku', uuid), { code: '23505', constraint: 'accounts_product_marketplace_external_id_key' })
  await insertAccount(db, 'acme-logs', 'heroku', uuid)
  // One account per AWS CustomerIdentifier per product: the same customer buying two products is two accounts.
  await t.rejects(insertAccount(db, 'acme-db', 'aws', 'cust-1', { customerIdentifier: 'cust-1' }), { code: '23505', constraint: 'accounts_aws_customer_identifier_key' })
  await insertAccount(db, 'acme-logs', 'aws', 'cust-1', { customerIdentifier: 'cust-1' })
  // Every new row must name its product.
  await t.rejects(sql`insert into accounts (id, marketplace, external_id, status, created_at, updated_at)
    values (gen_random_uuid(), 'heroku', 'no-product', 'active', now(), now())`.execute(db), { code: '23502' })
  t.equal((await db.selectFrom('accounts').select('id').execute()).length, 4)
})

t.test('a bad product id fails the migration and leaves the old schema and rows as they were', async (t) => {
  const { db } = await emptyDatabase(t)
  await migrateToBefore(db)
  await fillOldSchema(db)
  await t.rejects(migrateToLatest(db, { productId: 'Not A Product' }), /migration 2026-12-02T0200_account_product failed/)
  const columns = await sql<{ column_name: string }>`
    select column_name from information_schema.columns where table_name = 'accounts' and column_name = 'product'`.execute(db)
  t.same(columns.rows, [], 'no product column')
  t.equal((await db.selectFrom('accounts').select('id').execute()).length, 2)

  // Without an id, the product is `default`; the setting does not outlive the migration on its connection.
  await migrateToLatest(db)
  t.same((await db.selectFrom('accounts').select('product').distinct().execute()).map((r) => r.product), ['default'])
  await db.connection().execute(async (conn) => {
    const { rows } = await sql<{ v: string | null }>`select current_setting('marketgate.product_id', true) as v`.execute(conn)
    t.ok(rows[0]!.v === null || rows[0]!.v === '', 'no product id left on the connection')
  })
})
