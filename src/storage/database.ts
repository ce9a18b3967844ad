import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { outboxChannel } from './event-log.js'
import { PreparingClient } from './prepared.js'
import type { Database } from './tables.js'

/** Which engine a Database runs on; workers use it to choose LISTEN/NOTIFY or polling. */
export type Engine = 'postgres' | 'pglite'

export interface DatabaseHandle {
  db: Kysely<Database>
  engine: Engine
  /** For Postgres: the connection string, so a listener can open its own connection. */
  url: string | null
  /**
   * Embedded only: LISTEN in this process (PGlite delivers a NOTIFY to its own listeners when
   * the sending transaction commits). Postgres listeners need their own connection instead.
   */
  listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** `postgres://…`, `pglite://memory`, or undefined for the embedded database in `dataDir`. */
  url: string | undefined
  dataDir: string
  poolSize?: number
  /** Postgres: prepare each statement once per connection (default true; see PreparingClient). */
  preparedStatements?: boolean
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
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, ...(options.preparedStatements ?? true ? { Client: PreparingClient } : {}) })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    return { db, engine: 'postgres', url, close: () => db.destroy() }
  }
  let client: PGlite
  let unlock = () => {}
  if (url === 'pglite://memory') {
    client = new PGlite()
  } else {
    mkdirSync(options.dataDir, { recursive: true })
    unlock = lockDataDir(options.dataDir)
    client = new PGlite(`${options.dataDir}/pgdata`)
  }
  await client.waitReady
  return await embeddedHandle(client, unlock)
}

/**
 * The handle over a ready PGlite client; `release` runs after the database is closed.
 * The outbox channel is LISTENed to here, once, before anything else uses the client: PGlite
 * has one session, so a LISTEN issued later could land inside another caller's transaction
 * and be undone by its rollback. Subscribers are then called from JS.
 */
export async function embeddedHandle (client: PGlite, release: () => void = () => {}): Promise<DatabaseHandle> {
  const subscribers = new Set<() => void>()
  await client.listen(outboxChannel, () => { for (const fn of subscribers) fn() })
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) })
  const listen = async (channel: string, onNotify: () => void) => {
    if (channel !== outboxChannel) throw new Error(`the embedded database listens to ${outboxChannel} only`)
    subscribers.add(onNotify)
    return async () => { subscribers.delete(onNotify) }
  }
  return { db, engine: 'pglite', url: null, listen, close: async () => { await db.destroy(); release() } }
}

export class DataDirInUseError extends Error {}

/**
 * An embedded database belongs to one process: a second one (a `marketgate worker` beside
 * `npm start`) would corrupt it. A lock file with the owner's pid refuses the second
 * process clearly; a lock left by a process that died is taken over.
 */
function lockDataDir (dataDir: string): () => void {
  const file = `${dataDir}/marketgate.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' })
      return () => rmSync(file, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number(readFileSync(file, 'utf8'))
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DataDirInUseError(`the embedded database in ${dataDir} is in use by process ${pid}; several processes need DATABASE_URL=postgres://…`)
      }
      rmSync(file, { force: true })
    }
  }
  throw new DataDirInUseError(`could not lock ${dataDir}`)
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
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
