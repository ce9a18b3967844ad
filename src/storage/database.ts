import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { connectWithRetry, describeDatabaseUrl, type ConnectRetryDeps } from './connect.retry.js'
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
  /** Postgres: how long opening keeps retrying an unreachable database (default 60 s). */
  connectTimeoutS?: number
  /**
   * Postgres: the server's statement_timeout, and (plus a margin) the client's read timeout
   * and its wait for a connection, so a hung database fails a query instead of holding it
   * (default 5000; 0 turns all three off).
   */
  statementTimeoutMs?: number
}

/** Injected into openDatabase: the retry's time, randomness and log (see ConnectRetryDeps). */
export type OpenDeps = ConnectRetryDeps

/**
 * What the client waits beyond statement_timeout before it gives up on its own: the server
 * cancels first (57014) when it is alive; the client's timers are for a server that is not
 * answering at all (frozen, or a network that drops packets).
 */
const clientMarginMs = 1000

/**
 * Opens Kysely over `pg` for postgres:// URLs, else over PGlite (embedded Postgres in WASM):
 * in memory for `pglite://memory`, otherwise persisted under `dataDir/pgdata`.
 * Same SQL for both; PGlite has one connection, so the dialect queues transactions.
 */
export async function openDatabase (options: DatabaseOptions, deps: OpenDeps = {}): Promise<DatabaseHandle> {
  const { url } = options
  if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) {
    // int8 (row counts, sums) as JS numbers: our counters stay far below 2^53.
    pg.types.setTypeParser(20, (v: string) => Number(v))
    const pool = createPool(url, options, deps.log)
    try {
      // Start-up waits out a database that is restarting, failing over or not created yet.
      await connectWithRetry(url, options.connectTimeoutS ?? 60, async () => {
        const client = await pool.connect()
        try {
          await client.query('select 1')
        } finally {
          client.release()
        }
      }, deps)
    } catch (err) {
      await pool.end().catch(() => {})
      throw err
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    return { db, engine: 'postgres', url, close: () => db.destroy() }
  }
  let client: PGlite
  let unlock = () => {}
  if (url === 'pglite://memory') {
    client = new PGlite()
  } else {
    // Private to its user (the findings saw 966 of 1053 files readable by others): the
    // directory's mode guards everything PGlite writes under it, whatever their own modes.
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 })
    chmodSync(options.dataDir, 0o700)
    unlock = lockDataDir(options.dataDir)
    client = new PGlite(`${options.dataDir}/pgdata`)
  }
  await client.waitReady
  return await embeddedHandle(client, unlock)
}

/**
 * The pg pool, made to survive its database: pg emits 'error' on a client whose connection
 * drops (an idle one through the pool, a checked-out one on itself), and an 'error' event
 * nobody listens to kills the process. A dropped client is removed from the pool by pg; the
 * next query opens a new connection, or fails (503) while the database is away. Keepalive
 * notices a peer that vanished without closing (a failover, a cut network).
 */
function createPool (url: string, options: DatabaseOptions, log: OpenDeps['log']): pg.Pool {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000
  const clientTimeoutMs = statementTimeoutMs > 0 ? statementTimeoutMs + clientMarginMs : 0
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(clientTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, query_timeout: clientTimeoutMs, connectionTimeoutMillis: clientTimeoutMs } : {}),
    Client: closingOnReadTimeout(options.preparedStatements ?? true ? PreparingClient : pg.Client)
  })
  const where = describeDatabaseUrl(url)
  pool.on('error', (err) => log?.warn({ database: where, reason: err.message }, 'a pooled database connection was lost; it will be replaced'))
  // A checked-out client's error also fails its query, which reports it; this only keeps the
  // event from being unhandled.
  pool.on('connect', (client) => client.on('error', () => {}))
  return pool
}

/**
 * A client that closes its connection when a query hits the read timeout. pg gives up on
 * the query but keeps the connection, with the statement (a `begin`, say) possibly still to
 * run once a frozen database thaws, while the rollback queued behind it was dropped: the
 * pool would hand out a connection stuck inside a transaction whose writes never commit.
 * Closed, it is replaced by a fresh one.
 */
function closingOnReadTimeout (Base: typeof pg.Client): typeof pg.Client {
  return class extends Base {
    constructor (config?: string | pg.ClientConfig) {
      super(config)
      const query = this.query.bind(this) as (...args: unknown[]) => unknown
      const close = (err: unknown) => {
        if ((err as Error)?.message === 'Query read timeout') (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
      }
      this.query = ((...args: unknown[]) => {
        const result = query(...args)
        if (result instanceof Promise) result.catch(close)
        return result
      }) as pg.Client['query']
    }
  }
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

/**
 * True when the database answers a trivial query within `timeoutMs` (default 2 s): a hung
 * database makes /readyz answer 503 promptly instead of waiting for it. The query itself
 * is left to the pool's own timeouts.
 */
export async function ping (db: Kysely<Database>, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs) })
  try {
    return await Promise.race([sql`select 1`.execute(db).then(() => true, () => false), late])
  } finally {
    clearTimeout(timer)
  }
}

