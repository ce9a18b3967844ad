import type { Insertable, Transaction } from 'kysely'
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

// Columns whose values the stores give as JSON text (a row inserted by Kysely), but which a
// row decoded from JSON must receive as the JSON value itself.
const jsonColumns: Record<AttachableTable, readonly string[]> = { account_credentials: [], jobs: ['payload'] }

/** The rows of one table (same columns, same conflict rule) to write with a batch of new accounts. */
export interface AttachedRows {
  table: AttachableTable
  columns: string[]
  onConflict: string | undefined
  rows: Array<Record<string, unknown>>
}

/**
 * Every attachment of a batch of new accounts, grouped so that each group is one INSERT:
 * rows of the same table with the same columns and conflict rule. Each row gets its
 * account's id (which the account's insert may or may not keep: the INSERT joins `acc`).
 */
export function attachmentRows (items: Array<{ accountId: string, attachments: Attachment[] }>): AttachedRows[] {
  const groups = new Map<string, AttachedRows>()
  for (const { accountId, attachments } of items) {
    for (const a of attachments) {
      const { table, row, onConflict } = rowOf(a)
      const values = { ...row(accountId) }
      for (const c of jsonColumns[table]) if (typeof values[c] === 'string') values[c] = JSON.parse(values[c] as string)
      const columns = Object.keys(values).sort()
      const key = JSON.stringify([table, columns, onConflict ?? null])
      const group = groups.get(key) ?? { table, columns, onConflict, rows: [] }
      group.rows.push(values)
      groups.set(key, group)
    }
  }
  return [...groups.values()]
}
