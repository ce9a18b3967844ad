import { mkdirSync } from 'node:fs'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { Database } from './tables.js'

/** Which engine a Database runs on; workers use it to choose LISTEN/NOTIFY or polling. */
export type Engine = 'postgres' | 'pglite'

export interface DatabaseHandle {
  db: Kysely<Database>
  engine: Engine
  /** For Postgres: the connection string, so a listener can open its own connection. */
  url: string | null
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** `postgres://…`, `pglite://memory`, or undefined for the embedded database in `dataDir`. */
  url: string | undefined
  dataDir: string
  poolSize?: number
}

/**
 * Opens Kysely over `pg` for postgres:// URLs, else over PGlite (embedded Postgres in WASM):
 * in memory for `pglite://memory`, otherwise persisted under `dataDir/pgdata`.
 * Same SQL for both; PGlite has one connection, so the dialect queues transactions.
 */
export async function openDatabase (options: DatabaseOptions): Promise<DatabaseHandle> {
  const { url } = options
  if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) {
    // int8 (row counts, sums) as JS numbers: our counters stay far below 2^53.
    pg.types.setTypeParser(20, (v: string) => Number(v))
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    return { db, engine: 'postgres', url, close: () => db.destroy() }
  }
  let client: PGlite
  if (url === 'pglite://memory') {
    client = new PGlite()
  } else {
    const dir = `${options.dataDir}/pgdata`
    mkdirSync(options.dataDir, { recursive: true })
    client = new PGlite(dir)
  }
  await client.waitReady
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) })
  return { db, engine: 'pglite', url: null, close: () => db.destroy() }
}

/** True when the database answers a trivial query. */
export async function ping (db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db)
    return true
  } catch {
    return false
  }
}
