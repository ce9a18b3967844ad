import { sql, type Kysely } from 'kysely'
import type { AccountDraft, Attachment, Clock, LifecycleEvent, MachineState, Random, StoredEvent } from '../../core/index.js'
import { attachmentCtes } from './attachment.js'
import { fanOutCte, newEvents, notifyIfDelivered, storedEvents } from './event-log.js'
import type { AccountRow, Database } from './tables.js'

/**
 * A new account in ONE statement, so without a transaction around it (one statement is
 * atomic): the account, its events, their outbox rows, the attachments and the NOTIFY.
 * A fresh provision made five round trips (BEGIN, account, events, API key, COMMIT); now one.
 *
 * Every part selects `from acc`: when the key exists, `on conflict do nothing` inserts no
 * account, so no part writes anything and no row comes back (undefined). A concurrent insert
 * of the same key makes this statement wait for it, as the transactional insert does.
 *
 * The parts of one statement do not see each other's rows in the tables, so an event's
 * snapshot is `to_jsonb(acc)`, the row the insert returned: the same JSON as the slow path's
 * `(select to_jsonb(a) from accounts a …)`, since both are the whole accounts row. Foreign
 * keys (events, credentials and jobs → accounts) are checked at the end of the statement,
 * when the account is there.
 */
export async function createAccount (
  db: Kysely<Database>, deps: { clock: Clock, random: Random },
  draft: AccountDraft & MachineState, events: LifecycleEvent[], attachments: Attachment[]
): Promise<{ account: AccountRow, events: StoredEvent[] } | undefined> {
  const now = deps.clock.now()
  const id = deps.random.uuid()
  const rows = newEvents(deps.random, events)
  const parts = [fanOutCte(now), ...attachmentCtes(id, attachments)]
  const eventValues = sql.join(rows.map((r) => sql`(${r.id}::uuid, ${r.type}::text, ${r.data}::jsonb)`))
  // Without events, `ev` still exists (empty) so that `ins` and the NOTIFY read the same way.
  const ev = rows.length === 0
    ? sql`ev as (select null::uuid as id, null::text as type where false)`
    : sql`ev as (
      insert into account_events (id, account_id, type, data, occurred_at, account_snapshot)
      select v.id, acc.id, v.type, v.data, ${now}::timestamptz, to_jsonb(acc)
      from acc cross join (values ${eventValues}) as v (id, type, data)
      returning id, type
    )`
  const { rows: [row] } = await sql<AccountRow & { notified: number }>`
    with acc as (
      insert into accounts (id, marketplace, external_id, customer_account_id, plan, status, metadata, entitlements, created_at, updated_at)
      values (${id}::uuid, ${draft.marketplace}, ${draft.externalId}, ${draft.customerAccountId ?? null}, ${draft.plan ?? null}, ${draft.status},
        ${JSON.stringify(draft.metadata ?? {})}::jsonb, ${JSON.stringify(draft.entitlements ?? [])}::jsonb, ${now}::timestamptz, ${now}::timestamptz)
      on conflict (marketplace, external_id) do nothing
      returning *
    ), ${ev}, ${sql.join(parts, sql`, `)}
    select acc.*, (select count(*) from (${notifyIfDelivered}) as n) as notified from acc`.execute(db)
  if (row === undefined) return undefined
  const { notified: _, ...account } = row
  return { account, events: storedEvents(rows, id, now) }
}
