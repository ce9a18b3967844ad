import { sql, type Insertable, type RawBuilder, type Transaction } from 'kysely'
import type { Attachment } from '../../core/index.js'
import type { Database } from './tables.js'

/** The tables whose rows may be written together with a new account. */
export type AttachableTable = 'account_credentials' | 'jobs'

/**
 * What an Attachment is in this storage: one row of another store, whose values may depend
 * on the id of the account it is written with (its `account_id`, a job's dedupe key), which
 * is not known when the attachment is made. `onConflict`: a unique column whose conflict
 * skips the row instead of failing the write (a job's dedupe key).
 */
interface RowAttachment {
  table: AttachableTable
  row: (accountId: string) => Record<string, unknown>
  onConflict?: string
}

// Attachments made here, so that a foreign one is refused rather than written as garbage.
const made = new WeakMap<Attachment, RowAttachment>()

/** An attachment for `table`; `row` gets the new account's id and must set `account_id` from it. */
export function rowAttachment<T extends AttachableTable> (
  table: T, row: (accountId: string) => Insertable<Database[T]>, onConflict?: keyof Database[T] & string
): Attachment {
  const attachment = Object.freeze({}) as Attachment
  made.set(attachment, { table, row: row as (accountId: string) => Record<string, unknown>, onConflict })
  return attachment
}

function rowOf (attachment: Attachment): RowAttachment {
  const r = made.get(attachment)
  if (r === undefined) throw new Error('not an attachment of this storage')
  return r
}

/** Writes the attachments with plain inserts, inside the caller's transaction (the slow path). */
export async function insertAttachments (trx: Transaction<Database>, accountId: string, attachments: Attachment[]): Promise<void> {
  for (const a of attachments) {
    const { table, row, onConflict } = rowOf(a)
    const q = trx.insertInto(table).values(row(accountId) as never)
    await (onConflict === undefined ? q : q.onConflict((oc) => oc.column(onConflict as never).doNothing())).execute()
  }
}

/**
 * The attachments as data-modifying CTEs (`a0 as (insert …), a1 as (…)`) of the one-statement
 * create: each row is selected `from acc`, so nothing is written when `acc` inserted no account.
 * Values go as untyped parameters of INSERT … SELECT, which Postgres types from the columns.
 */
export function attachmentCtes (accountId: string, attachments: Attachment[]): RawBuilder<unknown>[] {
  return attachments.map((a, i) => {
    const { table, row, onConflict } = rowOf(a)
    const values = row(accountId)
    const columns = Object.keys(values)
    const conflict = onConflict === undefined ? sql`` : sql`on conflict (${sql.ref(onConflict)}) do nothing`
    return sql`${sql.raw(`a${i}`)} as (
      insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))})
      select ${sql.join(columns.map((c) => sql`${values[c]}`))} from acc
      ${conflict}
      returning 1
    )`
  })
}
