import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileMigrationProvider, Migrator, sql, type Kysely, type MigrationResult } from 'kysely'
import { openDatabase, type DatabaseHandle, type DatabaseOptions, type OpenDeps } from './database.js'
import type { Database } from './tables.js'

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url))

/**
 * Applies every pending migration. Safe when several instances start at once: Kysely's
 * Postgres adapter takes a session advisory lock for the run, and PGlite has a single connection.
 *
 * Migrations import no app code, so what they need of the configuration travels as session
 * settings of the ONE connection they run on: `marketgate.product_id` is the product that
 * existing accounts get (2026-12-02T0200_account_product). The Migrator's own lock, reads
 * and transaction run on that same connection.
 */
export async function migrateToLatest (db: Kysely<Database>, options: { productId?: string } = {}): Promise<MigrationResult[]> {
  const productId = options.productId ?? 'default'
  const { error, results } = await db.connection().execute(async (conn) => {
    await sql`select set_config('marketgate.product_id', ${productId}, false)`.execute(conn)
    const outcome = await migratorOn(conn).migrateToLatest()
    // The connection goes back to the pool: leave nothing of the migration on it. (After a
    // failure it may be gone; the migration's error is the one worth reporting.)
    await sql`reset marketgate.product_id`.execute(conn).catch(() => {})
    return outcome
  }).catch((err: unknown) => ({ error: err, results: undefined }))
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')
    // Before any migration ran (the database refused the connection or the lock), there is no
    // name to give: say what failed instead of "migration  failed".
    const what = failed === undefined ? 'could not apply migrations' : `migration ${failed.migrationName} failed`
    throw new Error(`${what}: ${(error as Error).message}`, { cause: error })
  }
  return results ?? []
}

/**
 * Applies pending migrations with no statement timeout. A migration may take longer than
 * DATABASE_STATEMENT_TIMEOUT_MS (an index on a large table), and so may waiting for the lock
 * while another instance migrates; the serving pool's timeouts would cancel both and fail the
 * start. On Postgres the migrations get one connection of their own without timeouts; the
 * embedded engine has no timeouts and one connection, so it uses the handle it has.
 */
export async function migrateWithoutTimeouts (
  handle: DatabaseHandle, options: DatabaseOptions, deps: OpenDeps = {}, settings: { productId?: string } = {}
): Promise<MigrationResult[]> {
  if (handle.engine !== 'postgres') return await migrateToLatest(handle.db, settings)
  const own = await openDatabase({ ...options, url: handle.url ?? options.url, statementTimeoutMs: 0, poolSize: 1 }, deps)
  try {
    return await migrateToLatest(own.db, settings)
  } finally {
    await own.close()
  }
}

function migratorOn (db: Kysely<Database>): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsFolder }),
    // Migrations here only add; branches that land in another order than their names (as
    // 0800_webhook_delivery did after 0910_usage) must still apply on a database that ran
    // the later-named ones first, instead of refusing to start.
    allowUnorderedMigrations: true
  })
}
