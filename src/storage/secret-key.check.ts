import { sql, type ColumnType, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import { ConfigError } from '../config.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { sealedTables } from './sealed-columns.js'
import type { Database } from './tables.js'

/** The key check's table (migration 2026-12-01T0900): one row, the known value sealed. */
export type KeyCheckTables = {
  secret_key_check: {
    id: string
    sealed: string
    created_at: ColumnType<Date, Date | string | undefined, Date | string>
    updated_at: ColumnType<Date, Date | string | undefined, Date | string>
  }
}

const checkId = 'current'
const checkPlaintext = 'marketgate secret key check'

/**
 * The secret key cannot open what the database holds (changed, lost, or another gateway's).
 * A ConfigError (exit 78): the message names the variable or file the key came from, never a
 * key, and says how to recover.
 */
export class SecretKeyMismatchError extends ConfigError {
  constructor (keyName: string, where: string, withPrevious: boolean) {
    // ConfigError already leads with the variable's name: do not say it twice.
    const self = keyName === 'MARKETGATE_SECRET_KEY'
    const subject = withPrevious
      ? `neither ${self ? 'it' : keyName} nor MARKETGATE_SECRET_KEY_PREVIOUS opens`
      : `${self ? '' : `${keyName} `}does not open`
    super('MARKETGATE_SECRET_KEY', `${subject} the secrets stored in the database (${where}): set the key they were sealed with, ` +
      'or set that key as MARKETGATE_SECRET_KEY_PREVIOUS beside the new one and run `marketgate rotate-secret-key`')
    this.name = 'SecretKeyMismatchError'
  }
}

function isUndefinedTable (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '42P01'
}

/** The check row's sealed value, or null when there is none (or, before its migration, no table). */
async function readCheck (db: Kysely<Database>): Promise<string | null | undefined> {
  try {
    const row = await db.withTables<KeyCheckTables>().selectFrom('secret_key_check').select('sealed').where('id', '=', checkId).executeTakeFirst()
    return row?.sealed ?? null
  } catch (err) {
    if (isUndefinedTable(err)) return undefined
    throw err
  }
}

function checkOpens (box: SecretBox, sealed: string): boolean {
  try {
    return box.open(sealed) === checkPlaintext
  } catch {
    return false
  }
}

/** Writes (or rewrites) the check under the box's current key; false when it was already so. */
export async function writeKeyCheck (db: Kysely<Database>, box: SecretBox): Promise<boolean> {
  const existing = await readCheck(db)
  if (typeof existing === 'string' && box.isCurrent(existing) && checkOpens(box, existing)) return false
  const sealed = box.seal(checkPlaintext)
  await db.withTables<KeyCheckTables>().insertInto('secret_key_check').values({ id: checkId, sealed })
    .onConflict((oc) => oc.column('id').doUpdateSet({ sealed, updated_at: sql`now()` })).execute()
  return true
}

/**
 * Stops a start whose key cannot open the stored secrets (issue 12). With a check row: opens
 * it. Without one (a fresh database, or one from before the check): opens one stored value of
 * every sealed column, and when all open under the current key writes the check. Two instances
 * starting at once with different keys: one writes, the other reads it back and stops.
 * `keyName` says where the key came from (MARKETGATE_SECRET_KEY, or the data dir's secret.key).
 */
export async function verifySecretKey (deps: { db: Kysely<Database>, secrets: SecretBox, keyName: string, logger: Logger }): Promise<void> {
  const { db, secrets, keyName, logger } = deps
  const mismatch = (where: string): SecretKeyMismatchError => new SecretKeyMismatchError(keyName, where, secrets.hasPrevious)
  const check = await readCheck(db)
  if (typeof check === 'string') {
    if (!checkOpens(secrets, check)) throw mismatch('secret_key_check')
    if (!secrets.isCurrent(check)) {
      logger.warn('stored secrets are sealed under MARKETGATE_SECRET_KEY_PREVIOUS: run `marketgate rotate-secret-key`, then unset it')
    }
    return
  }
  let allCurrent = true
  for (const { table, sealed } of sealedTables) {
    for (const column of sealed) {
      const { rows } = await sql<{ v: string }>`select ${sql.ref(column)} as v from ${sql.table(table)} where ${sql.ref(column)} is not null limit 1`.execute(db)
      const value = rows[0]?.v
      if (value === undefined) continue
      const under = secrets.sealedUnder(value)
      if (under === undefined) throw mismatch(`${table}.${column}`)
      // Data still under the previous key: the check is written by the rotation, not here,
      // so that dropping MARKETGATE_SECRET_KEY_PREVIOUS before rotating still stops the start.
      if (under === 'previous') allCurrent = false
    }
  }
  // Before the check's migration (a pre-migrated test database) there is nowhere to write it.
  if (check === undefined || !allCurrent) return
  const sealed = secrets.seal(checkPlaintext)
  await db.withTables<KeyCheckTables>().insertInto('secret_key_check').values({ id: checkId, sealed })
    .onConflict((oc) => oc.column('id').doNothing()).execute()
  const written = await readCheck(db)
  if (typeof written !== 'string' || !checkOpens(secrets, written)) throw mismatch('secret_key_check')
}
