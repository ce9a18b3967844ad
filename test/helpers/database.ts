import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, existsSync, writeFileSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import pg from 'pg'
import tap from 'tap'
import { embeddedHandle, openDatabase, type DatabaseHandle } from '../../src/storage/database.js'
import { migrateToLatest, migrationsFolder } from '../../src/storage/migrate.js'
import type { Database } from '../../src/storage/tables.js'

/** True when the suite runs against a real Postgres (DATABASE_URL=postgres://…). */
export const onPostgres = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')

/**
 * A new, empty, migrated database: a new in-memory PGlite, or on Postgres a new database
 * named mg_test_<random> beside DATABASE_URL's, dropped on close.
 */
export async function createTestDatabase (): Promise<DatabaseHandle & { name: string }> {
  if (!onPostgres) return pgliteFromTemplate()
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
      await dropWhenClosed(base, name)
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

/**
 * pg's pool.end() resolves before its connections have finished closing. A forced drop right
 * then kills the ones still closing, and their FATAL 57P01 reaches a client nobody listens to:
 * an uncaught error that fails a file whose tests all passed. Wait (2 s at most) for them first.
 */
async function dropWhenClosed (base: URL, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: base.toString() })
  await c.connect()
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name])
      if (rows[0]!.n === 0) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await c.query(`drop database if exists ${name} with (force)`)
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

/**
 * Starting PGlite and migrating it costs about 5 s of WASM work; loading a data directory
 * that was already migrated costs about 1 s. Like graphile-worker's template database, the
 * first test process dumps a migrated database into .tap/, keyed by a hash of the
 * migrations, and every later one loads that dump.
 */
async function pgliteFromTemplate (): Promise<DatabaseHandle & { name: string }> {
  const hash = createHash('sha256')
  for (const file of readdirSync(migrationsFolder).sort()) hash.update(file).update(readFileSync(`${migrationsFolder}/${file}`))
  const dir = new URL('../../.tap/', import.meta.url).pathname
  const template = `${dir}pglite-template-${hash.digest('hex').slice(0, 16)}.tgz`
  let client: PGlite
  if (existsSync(template)) {
    client = new PGlite({ loadDataDir: new Blob([readFileSync(template)]) })
    await client.waitReady
  } else {
    client = new PGlite()
    await client.waitReady
    await migrateToLatest(new Kysely<Database>({ dialect: new PGliteDialect(client) }), { productId: 'default' })
    const dump = await client.dumpDataDir('gzip')
    mkdirSync(dir, { recursive: true })
    const tmp = `${template}.${process.pid}.tmp`
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()))
    renameSync(tmp, template) // atomic: a racing process never reads half a file
  }
  return { ...await embeddedHandle(client), name: 'memory' }
}
