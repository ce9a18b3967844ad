import t from 'tap'
import { sql } from 'kysely'
import { openDatabase } from '../../../src/storage/database.js'
import { migrateToLatest } from '../../../src/storage/migrate.js'
import { createTestDatabase, onPostgres } from '../../helpers/database.js'

// The start-up path: an empty database migrated by the gateway itself (the other tests load
// a migrated template), and, on Postgres, several instances starting at once.
t.test('an empty database migrates to the latest schema, and a second run applies nothing', async (t) => {
  const handle = onPostgres ? await createTestDatabase() : await openDatabase({ url: 'pglite://memory', dataDir: '' })
  t.teardown(() => handle.close())
  if (!onPostgres) {
    const first = await migrateToLatest(handle.db)
    t.ok(first.length > 0)
    t.ok(first.every((r) => r.status === 'Success'))
  }
  t.same(await migrateToLatest(handle.db), [])
  const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public' order by 1`.execute(handle.db)
  for (const table of ['accounts', 'account_events', 'webhook_endpoints', 'webhook_deliveries', 'inbound_messages', 'login_tickets', 'usage_hours']) {
    t.ok(tables.rows.some((r) => r.tablename === table), table)
  }
})

t.test('several instances migrating one Postgres at once apply each migration once', { skip: !onPostgres && 'Postgres only' }, async (t) => {
  const base = await createTestDatabase()
  t.teardown(() => base.close())
  // an empty sibling database, migrated by three "instances" at the same moment
  await sql`drop schema public cascade`.execute(base.db)
  await sql`create schema public`.execute(base.db)
  const handles = await Promise.all([0, 1, 2].map(() => openDatabase({ url: base.url!, dataDir: '' })))
  t.teardown(async () => { for (const h of handles) await h.close() })
  const results = await Promise.all(handles.map((h) => migrateToLatest(h.db)))
  const applied = results.flat().filter((r) => r.status === 'Success').map((r) => r.migrationName)
  t.equal(applied.length, new Set(applied).size, 'no migration applied twice')
  const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(base.db)
  t.equal(rows.rows.length, applied.length)
})
