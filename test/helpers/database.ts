import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import pg from 'pg'
import tap from 'tap'
import { openDatabase, type DatabaseHandle } from '../../src/storage/database.js'
import { migrateToLatest } from '../../src/storage/migrate.js'

/** True when the suite runs against a real Postgres (DATABASE_URL=postgres://…). */
export const onPostgres = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')

/**
 * A new, empty, migrated database: a new in-memory PGlite, or on Postgres a new database
 * named mg_test_<random> beside DATABASE_URL's, dropped on close.
 */
export async function createTestDatabase (): Promise<DatabaseHandle & { name: string }> {
  if (!onPostgres) {
    const handle = await openDatabase({ url: 'pglite://memory', dataDir: '' })
    await migrateToLatest(handle.db)
    return { ...handle, name: 'memory' }
  }
  const base = new URL(process.env.DATABASE_URL!)
  const name = `mg_test_${randomBytes(6).toString('hex')}`
  await adminQuery(base, `create database ${name}`)
  const url = new URL(base.toString())
  url.pathname = `/${name}`
  const handle = await openDatabase({ url: url.toString(), dataDir: '', poolSize: 20 })
  await migrateToLatest(handle.db)
  return {
    ...handle,
    name,
    url: url.toString(),
    async close () {
      await handle.close()
      await adminQuery(base, `drop database if exists ${name} with (force)`)
    }
  }
}

async function adminQuery (base: URL, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: base.toString() })
  await c.connect()
  try {
    await c.query(text)
  } finally {
    await c.end()
  }
}

let perFile: Promise<DatabaseHandle & { name: string }> | undefined

/**
 * The test file's own database, created and migrated once per file (tap runs each file in
 * its own process), and emptied before each use: starting PGlite costs seconds, emptying it
 * milliseconds. Tests within a file run one after another, so they never share rows.
 */
export async function freshDatabase (): Promise<DatabaseHandle> {
  if (perFile === undefined) {
    perFile = createTestDatabase()
    tap.teardown(async () => { await (await perFile!).close() })
  }
  const handle = await perFile
  const tables = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = 'public' and tablename not like 'kysely_%'`.execute(handle.db)
  if (tables.rows.length > 0) {
    await sql.raw(`truncate ${tables.rows.map((r) => `"${r.tablename}"`).join(', ')} cascade`).execute(handle.db)
  }
  // The app's close must not close the file's database: hand out a handle whose close is a no-op.
  return { ...handle, close: async () => {} }
}
