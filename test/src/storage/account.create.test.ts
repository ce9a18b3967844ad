import t from 'tap'
import { sql, type KyselyPlugin } from 'kysely'
import { createLifecycle, type AccountKey, type Attachment, type LifecycleStore } from '../../../core/index.js'
import { createAccountStore } from '../../../src/storage/account.store.js'
import { createCredentialStore } from '../../../src/storage/credential.store.js'
import { build, type Built } from '../../helpers/build.js'
import { addEndpoint } from '../../helpers/heroku.js'

const key: AccountKey = { product: 'default', marketplace: 'heroku', externalId: 'fast-1' }

/**
 * The lifecycle over a store whose statements and transactions are counted: a plugin sees
 * every statement Kysely compiles (a transaction's BEGIN and COMMIT are not statements of ours,
 * so transactions are counted where the store opens them).
 */
function counted ({ services }: Built) {
  const n = { statements: 0, transactions: 0 }
  const plugin: KyselyPlugin = { transformQuery: (args) => { n.statements++; return args.node }, transformResult: async (args) => args.result }
  const inner = createAccountStore({ db: services.db.withPlugin(plugin), clock: services.clock, random: services.random })
  const store: LifecycleStore = { create: inner.create, transaction: (fn) => { n.transactions++; return inner.transaction(fn) } }
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  return { n, store, lifecycle: createLifecycle({ store }), credentials }
}

async function rows ({ services: { db } }: Built) {
  return {
    accounts: await db.selectFrom('accounts').selectAll().execute(),
    events: await db.selectFrom('account_events').selectAll().orderBy('id').execute(),
    deliveries: await db.selectFrom('webhook_deliveries').selectAll().execute(),
    credentials: await db.selectFrom('account_credentials').selectAll().execute(),
    jobs: await db.selectFrom('jobs').selectAll().execute()
  }
}

t.test('a fresh create is one statement without a transaction: account, event, delivery, key and job together', async (t) => {
  const built = await build(t)
  const endpointId = await addEndpoint(built.services)
  const { n, lifecycle, credentials } = counted(built)
  const prepared = credentials.prepareApiKey()
  const job = built.services.jobs.prepare({ kind: 'test.job', payload: { a: 1 }, secret: { code: 'c-1' }, dedupeKey: (id) => `test.job:${id}` })
  const r = await lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [prepared.attachment, job] })
  t.same(n, { statements: 1, transactions: 0 })
  t.match(r, { outcome: 'changed', created: true, account: { ...key, plan: 'basic', status: 'active', version: 1 } })
  const id = r.account!.id
  const written = await rows(built)
  t.same(written.accounts.map((a) => a.id), [id])
  t.same(written.events.map((e) => [e.id, e.account_id, e.type]), r.events.map((e) => [e.id, id, 'account.provisioned']))
  t.same(written.deliveries.map((d) => [d.event_id, d.endpoint_id]), [[r.events[0]!.id, endpointId]])
  t.same(written.credentials.map((c) => [c.account_id, c.kind, c.expires_at]), [[id, 'api_key', null]])
  t.equal(await credentials.currentApiKey(id), prepared.key)
  t.equal(written.jobs.length, 1)
  t.match(written.jobs[0], { kind: 'test.job', account_id: id, dedupe_key: `test.job:${id}`, payload: { a: 1 }, status: 'pending' })
  t.equal(built.services.secrets.open(written.jobs[0]!.secret_encrypted!), '{"code":"c-1"}')
})

t.test('an existing key: create writes nothing and answers undefined; execute falls back to a locked repeat', async (t) => {
  const built = await build(t)
  await addEndpoint(built.services)
  const { n, store, lifecycle, credentials } = counted(built)
  const first = await lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [credentials.prepareApiKey().attachment] })
  const before = await rows(built)
  const job = built.services.jobs.prepare({ kind: 'test.job', dedupeKey: (id) => `test.job:${id}` })
  const events = [{ type: 'account.provisioned' as const, data: {} }]
  const draft = { ...key, status: 'active' as const, plan: 'pro', metadata: {}, entitlements: [], customerAccountId: null }
  t.equal(await store.create!(draft, events, [credentials.prepareApiKey().attachment, job]), undefined)
  t.same(await rows(built), before, 'no account, event, delivery, key or job')

  n.statements = 0
  n.transactions = 0
  const again = await lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [credentials.prepareApiKey().attachment, job] })
  t.match(again, { outcome: 'unchanged', reason: 'repeat', created: false, account: { id: first.account!.id } })
  t.same(n, { statements: 2, transactions: 1 }, 'the create, then one locking read (no second insert)')
  t.same(await rows(built), before)
})

t.test('one statement is all or nothing: a failing attachment leaves no account and no event', async (t) => {
  const built = await build(t)
  const { lifecycle, credentials } = counted(built)
  const prepared = credentials.prepareApiKey()
  await lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [prepared.attachment] })
  // The same key row again: its id and digest are taken, so the second account's write fails whole.
  await t.rejects(lifecycle.execute({ key: { ...key, externalId: 'fast-2' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [prepared.attachment] }))
  const written = await rows(built)
  t.same(written.accounts.map((a) => a.external_id), ['fast-1'])
  t.equal(written.events.length, 1)
  t.equal(written.credentials.length, 1)
  await t.rejects(lifecycle.execute({ key: { ...key, externalId: 'fast-3' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [{} as Attachment] }),
    /not an attachment of this storage/)
  t.equal((await rows(built)).accounts.length, 1)
})

t.test('the event snapshot of the one-statement create is the JSON the transactional path stores', async (t) => {
  const built = await build(t)
  const { n, lifecycle, credentials } = counted(built)
  const draft = { customerAccountId: '123456789012' }
  const command = { type: 'provision' as const, plan: 'basic', metadata: { region: 'eu', nested: { a: [1, 'x', null] } } }
  const fast = await lifecycle.execute({ key }, command, { createIfAbsent: true, draft, attachOnCreate: [credentials.prepareApiKey().attachment] })
  t.same(n, { statements: 1, transactions: 0 })
  // `within` keeps a create on the transactional path (insert, then events with their snapshot).
  const slow = await lifecycle.execute({ key: { ...key, externalId: 'fast-2' } }, command, {
    createIfAbsent: true, draft, attachOnCreate: [credentials.prepareApiKey().attachment], within: async () => {}
  })
  t.equal(n.transactions, 1)
  const snapshots = await sql<{ account_id: string, account_snapshot: Record<string, unknown>, now: Record<string, unknown> }>`
    select e.account_id, e.account_snapshot, to_jsonb(a) as now from account_events e join accounts a on a.id = e.account_id order by e.id`.execute(built.services.db)
  const [f, s] = snapshots.rows
  t.same(f!.account_snapshot, f!.now, 'the fast snapshot is to_jsonb of the accounts row')
  t.same(s!.account_snapshot, s!.now)
  const { id: _f, external_id: _fe, ...fastRest } = f!.account_snapshot
  const { id: _s, external_id: _se, ...slowRest } = s!.account_snapshot
  t.same(Object.keys(f!.account_snapshot).sort(), Object.keys(s!.account_snapshot).sort())
  t.same(fastRest, slowRest, 'same keys and values but for id and key')
  t.equal(f!.account_id, fast.account!.id)
  t.equal(s!.account_id, slow.account!.id)
  t.equal((await rows(built)).credentials.length, 2, 'the slow path writes its attachments too')
})

t.test('concurrent creates share one statement; each gets its own account, events and key', async (t) => {
  const built = await build(t)
  const endpointId = await addEndpoint(built.services)
  const { n, lifecycle, credentials } = counted(built)
  const keys = Array.from({ length: 12 }, (_, i) => ({ product: 'default', marketplace: 'heroku' as const, externalId: `batch-${String(i).padStart(2, '0')}` }))
  const prepared = keys.map(() => credentials.prepareApiKey())
  // Started in one turn, in an order that is not the keys' order (the statement sorts them).
  const order = [5, 0, 11, 3, 7, 1, 9, 2, 10, 4, 8, 6]
  const results = await Promise.all(order.map((i) => lifecycle.execute({ key: keys[i]! }, { type: 'provision', plan: `plan-${i}` },
    { createIfAbsent: true, attachOnCreate: [prepared[i]!.attachment] })))
  t.same(n, { statements: 1, transactions: 0 }, 'one statement for all twelve')
  const written = await rows(built)
  t.equal(written.accounts.length, 12)
  for (const [k, i] of order.entries()) {
    const r = results[k]!
    t.match(r, { outcome: 'changed', created: true, account: { ...keys[i], plan: `plan-${i}`, status: 'active' } })
    t.equal(await credentials.currentApiKey(r.account!.id), prepared[i]!.key, `account ${i} holds its own key`)
    const event = written.events.find((e) => e.id === r.events[0]!.id)!
    t.equal(event.account_id, r.account!.id)
    t.match(event.account_snapshot, { id: r.account!.id, external_id: keys[i]!.externalId, plan: `plan-${i}` })
  }
  t.equal(written.deliveries.length, 12)
  t.ok(written.deliveries.every((d) => d.endpoint_id === endpointId))
})

t.test('two creates of one key in one batch: one account, the other call is a repeat', async (t) => {
  const built = await build(t)
  const { lifecycle, credentials } = counted(built)
  const a = credentials.prepareApiKey()
  const b = credentials.prepareApiKey()
  const [ra, rb] = await Promise.all([a, b].map((p) => lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [p.attachment] })))
  t.same([ra!.created, rb!.created].sort(), [false, true])
  t.equal(ra!.account!.id, rb!.account!.id)
  const written = await rows(built)
  t.equal(written.accounts.length, 1)
  t.equal(written.events.length, 1)
  t.equal(written.credentials.length, 1, 'only the winner\'s key is written')
})

t.test('a bad item fails alone: the rest of its batch is written', async (t) => {
  const built = await build(t)
  const { lifecycle, credentials } = counted(built)
  const taken = credentials.prepareApiKey()
  await lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true, attachOnCreate: [taken.attachment] })
  const outcomes = await Promise.all(['good-1', 'bad', 'good-2'].map((externalId) =>
    lifecycle.execute({ key: { ...key, externalId } }, { type: 'provision', plan: 'basic' }, {
      createIfAbsent: true, attachOnCreate: [externalId === 'bad' ? taken.attachment : credentials.prepareApiKey().attachment]
    }).then(() => 'created', () => 'failed')))
  t.same(outcomes, ['created', 'failed', 'created'])
  t.same((await rows(built)).accounts.map((a) => a.external_id).sort(), ['fast-1', 'good-1', 'good-2'])
})
