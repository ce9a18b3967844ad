import t from 'tap'
import { sql } from 'kysely'
import { sealedTables } from '../../../src/storage/sealed-columns.js'
import { freshDatabase } from '../../helpers/database.js'

// A sealed column missing from sealed-columns.ts would be left behind by rotate-secret-key and
// become unreadable once MARKETGATE_SECRET_KEY_PREVIOUS is dropped.
t.test('every sealed (`_encrypted`) column and keyed digest of the schema is in the rotation list', async (t) => {
  const db = (await freshDatabase()).db
  const { rows } = await sql<{ t: string, c: string }>`select table_name as t, column_name as c from information_schema.columns
    where table_schema = 'public' and (column_name like '%\_encrypted' or column_name like '%\_digest') order by 1, 2`.execute(db)
  const listed = sealedTables.flatMap((s) => [...s.sealed, ...(s.digest ? [s.digest.column] : [])].map((c) => `${s.table}.${c}`))
  // Ticket digests are not recomputable (no plaintext is stored); redeem accepts either key instead.
  const notRotated = ['login_tickets.ticket_digest']
  t.same(rows.map((r) => `${r.t}.${r.c}`).filter((c) => !notRotated.includes(c)).sort(), [...listed].sort())
})
