import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import { ConfigError } from '../config.js'
import { createSecretBox, type SecretBox } from '../crypto/secret-box.js'
import { sealedTables, type SealedTable } from './sealed-columns.js'
import { writeKeyCheck } from './secret-key.check.js'
import type { Database } from './tables.js'

/** What a rotation did to one table. */
export interface TableRotation {
  /** Rows re-sealed (and re-digested) under the new key. */
  resealed: number
  /** Rows holding a value that opens under neither key: left as they are, logged by key. */
  failed: number
  /** Rows that kept changing under the rotation (3 tries): a second run takes them. */
  conflicts: number
}

export interface RotationReport {
  tables: Record<string, TableRotation>
  /** The key check was rewritten under the new key (false when it already was). */
  keyCheckRewritten: boolean
  /** Sum of `failed` over the tables: non-zero means some secret is lost to both keys. */
  failed: number
  conflicts: number
}

type Row = Record<string, string | null>
export type RowOutcome = 'current' | 'resealed' | 'failed' | 'gone' | 'conflict'

const retries = 3

/**
 * Re-seals every stored secret and re-computes every keyed digest (sealed-columns.ts) under
 * `current`, opening them with `current` or `previous`; then rewrites the key check. Safe while
 * gateways serve (each with the new key and MARKETGATE_SECRET_KEY_PREVIOUS): tables are walked in
 * batches of `batchSize` rows in primary-key order, and each row is written by one UPDATE guarded
 * by the values it read, so a concurrent writer is never overwritten with stale data (the row is
 * read again and retried). Idempotent: values already under `current` are not touched, so a
 * second run changes nothing. Throws a ConfigError (exit 78) when `previous` is not set or is
 * `current` itself.
 */
export async function rotateSecretKey (options: {
  db: Kysely<Database>, current: string, previous: string | undefined, logger: Logger, batchSize?: number
}): Promise<RotationReport> {
  const { previous, current } = options
  if (previous === undefined) {
    throw new ConfigError('MARKETGATE_SECRET_KEY_PREVIOUS', 'required by rotate-secret-key: set it to the key the stored secrets are sealed with, and MARKETGATE_SECRET_KEY to the new key')
  }
  if (previous === current) {
    throw new ConfigError('MARKETGATE_SECRET_KEY_PREVIOUS', 'is the same key as MARKETGATE_SECRET_KEY: set MARKETGATE_SECRET_KEY to the new key')
  }
  const secrets = createSecretBox(current, previous)
  const log = options.logger.child({ component: 'secret-key-rotation' })
  const report: RotationReport = { tables: {}, keyCheckRewritten: false, failed: 0, conflicts: 0 }
  for (const spec of sealedTables) {
    const counts = await rotateTable(options.db, secrets, spec, options.batchSize ?? 100, log)
    report.tables[spec.table] = counts
    report.failed += counts.failed
    report.conflicts += counts.conflicts
    log.info({ table: spec.table, ...counts }, 'secret key rotation: table done')
  }
  report.keyCheckRewritten = await writeKeyCheck(options.db, secrets)
  return report
}

async function rotateTable (db: Kysely<Database>, secrets: SecretBox, spec: SealedTable, batchSize: number, log: Logger): Promise<TableRotation> {
  const counts: TableRotation = { resealed: 0, failed: 0, conflicts: 0 }
  const notCurrent = sql.join(spec.sealed.map((c) => sql`(${sql.ref(c)} is not null and ${sql.ref(c)} not like ${`${secrets.currentPrefix}%`})`), sql` or `)
  let after: string | undefined
  for (;;) {
    const { rows } = await sql<Row>`select ${columns(spec)} from ${sql.table(spec.table)}
      where (${notCurrent}) ${after === undefined ? sql`` : sql`and ${sql.ref(spec.key)} > ${after}`}
      order by ${sql.ref(spec.key)} limit ${batchSize}`.execute(db)
    for (const row of rows) {
      const outcome = await resealRow(db, secrets, spec, row)
      if (outcome === 'resealed') counts.resealed++
      if (outcome === 'conflict') counts.conflicts++
      if (outcome === 'failed') {
        counts.failed++
        log.warn({ table: spec.table, [spec.key]: row[spec.key] }, 'a stored secret opens under neither key: left as it is')
      }
    }
    if (rows.length < batchSize) return counts
    after = rows[rows.length - 1]![spec.key]!
  }
}

function columns (spec: SealedTable) {
  const names = [spec.key, ...spec.sealed, ...(spec.digest === undefined ? [] : [spec.digest.column])]
  // The key as text: it is compared and logged, whatever its type (uuid).
  return sql.join(names.map((n) => n === spec.key ? sql`${sql.ref(n)}::text as ${sql.ref(n)}` : sql.ref(n)))
}

/**
 * Brings one row (as read, possibly stale by now) under the current key: one UPDATE guarded by
 * every sealed value it read. When the guard misses, someone wrote the row meanwhile: it is
 * read again and retried, so their write stands. Exported for the concurrency test.
 */
export async function resealRow (db: Kysely<Database>, secrets: SecretBox, spec: SealedTable, read: Row): Promise<RowOutcome> {
  let row: Row | undefined = read
  for (let attempt = 0; attempt < retries && row !== undefined; attempt++) {
    const next = resealed(secrets, spec, row)
    if (next === 'failed' || next === 'current') return next
    const set = sql.join(Object.entries(next).map(([c, v]) => sql`${sql.ref(c)} = ${v}`))
    const unchanged = sql.join(spec.sealed.map((c) => sql`${sql.ref(c)} is not distinct from ${row![c] ?? null}`), sql` and `)
    const { rows } = await sql`update ${sql.table(spec.table)} set ${set}
      where ${sql.ref(spec.key)} = ${row[spec.key]} and ${unchanged} returning 1 as ok`.execute(db)
    if (rows.length === 1) return 'resealed'
    row = (await sql<Row>`select ${columns(spec)} from ${sql.table(spec.table)} where ${sql.ref(spec.key)} = ${read[spec.key]}`.execute(db)).rows[0]
  }
  return row === undefined ? 'gone' : 'conflict'
}

/** The row's new sealed values (and digest), 'current' when it has nothing to change. */
function resealed (secrets: SecretBox, spec: SealedTable, row: Row): Row | 'current' | 'failed' {
  const next: Row = {}
  for (const column of spec.sealed) {
    const value = row[column]
    if (value === null || value === undefined || secrets.isCurrent(value)) continue
    let plaintext: string
    try {
      plaintext = secrets.open(value)
    } catch {
      return 'failed'
    }
    next[column] = secrets.seal(plaintext)
    if (spec.digest?.of === column) next[spec.digest.column] = secrets.digest(plaintext)
  }
  return Object.keys(next).length === 0 ? 'current' : next
}
