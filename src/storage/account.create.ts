import { sql, type Kysely } from 'kysely'
import type { AccountDraft, Attachment, Clock, LifecycleEvent, MachineState, Random, StoredEvent } from '../../core/index.js'
import { attachmentRows } from './attachment.js'
import { fanOutCte, newEvents, notifyIfDelivered, storedEvents } from './event-log.js'
import type { AccountRow, Database } from './tables.js'

/** One new account to write: its draft, its events and the rows attached to it. */
export interface NewAccount {
  draft: AccountDraft & MachineState
  events: LifecycleEvent[]
  attachments: Attachment[]
}

/** What a create wrote, or undefined when the key was taken (then it wrote nothing). */
export type Created = { account: AccountRow, events: StoredEvent[] } | undefined

/**
 * New accounts in ONE statement, so without a transaction around it (one statement is
 * atomic): the accounts, their events, their outbox rows, their attachments and the NOTIFY.
 * A fresh provision made five round trips (BEGIN, account, events, API key, COMMIT); now one,
 * and concurrent provisions share it (see create.batcher.ts).
 *
 * Rows travel as JSON parameters typed by the tables' own row types (jsonb_populate_recordset),
 * so the text depends only on which attachment tables appear: Postgres prepares a handful of
 * statements whatever the batch size. Every part joins `acc`: an account whose key exists is
 * not inserted (`on conflict do nothing`, also between two drafts of one key in the batch),
 * so nothing of it is written and no row comes back for it. A concurrent insert of the same
 * key makes this statement wait for it, as the transactional insert does.
 *
 * The parts of one statement do not see each other's rows in the tables, so an event's
 * snapshot is `to_jsonb(acc)`, the row the insert returned: the same JSON as the slow path's
 * `(select to_jsonb(a) from accounts a …)`, since both are the whole accounts row. Foreign
 * keys (events, credentials and jobs → accounts) are checked at the end of the statement,
 * when the accounts are there.
 */
export async function createAccounts (db: Kysely<Database>, deps: { clock: Clock, random: Random }, input: NewAccount[]): Promise<Created[]> {
  // Keys in one order in every batch: two batches sharing keys then wait on each other in
  // the same order instead of deadlocking.
  const order = input.map((_, i) => i).sort((a, b) => compareKeys(input[a]!.draft, input[b]!.draft))
  const items = order.map((i) => input[i]!)
  const now = deps.clock.now()
  const accounts = items.map(({ draft }) => ({
    id: deps.random.uuid(),
    product: draft.product,
    marketplace: draft.marketplace,
    external_id: draft.externalId,
    customer_account_id: draft.customerAccountId ?? null,
    plan: draft.plan ?? null,
    status: draft.status,
    metadata: draft.metadata ?? {},
    entitlements: draft.entitlements ?? [],
    created_at: now,
    updated_at: now
  }))
  const events = items.map((item) => newEvents(deps.random, item.events))
  const eventRows = events.flatMap((rows, i) => rows.map((r, j) => ({ id: r.id, account_id: accounts[i]!.id, type: r.type, data: items[i]!.events[j]!.data })))
  const attached = attachmentRows(items.map((item, i) => ({ accountId: accounts[i]!.id, attachments: item.attachments })))
  const parts = attached.map(({ table, columns, rows, onConflict }, i) => sql`${sql.raw(`a${i}`)} as (
      insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))})
      select ${sql.join(columns.map((c) => sql.ref(`r.${c}`)))}
      from jsonb_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}::jsonb) as r
      join acc on acc.id = r.account_id
      ${onConflict === undefined ? sql`` : sql`on conflict (${sql.ref(onConflict)}) do nothing`}
      returning 1
    )`)
  const { rows } = await sql<AccountRow & { notified: number }>`
    with acc as (
      insert into accounts (id, product, marketplace, external_id, customer_account_id, plan, status, metadata, entitlements, created_at, updated_at)
      select a.id, a.product, a.marketplace, a.external_id, a.customer_account_id, a.plan, a.status, a.metadata, a.entitlements, a.created_at, a.updated_at
      from jsonb_populate_recordset(null::accounts, ${JSON.stringify(accounts)}::jsonb) as a
      on conflict (product, marketplace, external_id) do nothing
      returning *
    ), ev as (
      insert into account_events (id, account_id, type, data, occurred_at, account_snapshot)
      select e.id, acc.id, e.type, e.data, ${now}::timestamptz, to_jsonb(acc)
      from jsonb_to_recordset(${JSON.stringify(eventRows)}::jsonb) as e (id uuid, account_id uuid, type text, data jsonb)
      join acc on acc.id = e.account_id
      returning id, type, account_snapshot->>'product' as product
    ), ${sql.join([fanOutCte(now), ...parts], sql`, `)}
    select acc.*, (select count(*) from (${notifyIfDelivered}) as n) as notified from acc`.execute(db)
  const byId = new Map(rows.map(({ notified: _, ...account }) => [account.id, account]))
  const created: Created[] = new Array(input.length)
  accounts.forEach((a, i) => {
    const account = byId.get(a.id)
    created[order[i]!] = account && { account, events: storedEvents(events[i]!, a.id, now) }
  })
  return created
}

function compareKeys (a: AccountDraft, b: AccountDraft): number {
  return compare(a.product, b.product) || compare(a.marketplace, b.marketplace) || compare(a.externalId, b.externalId)
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
