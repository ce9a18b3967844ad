import t from 'tap'
import { sql } from 'kysely'
import { harness } from '../webhooks/harness.js'
import { createRetentionFromServices } from '../../../src/retention/retention.wiring.js'
import { uuidv7Floor } from '../../../src/random.js'
import { createLeaseStore } from '../../../src/storage/lease.store.js'

const day = 86_400_000


t.test('finished work older than the retention is deleted in batches; what is waiting and the event log are kept', async (t) => {
  const h = await harness(t)
  const { services, clock } = h
  const db = services.db
  for (let i = 0; i < 5; i++) await h.provision()
  await h.worker.runOnce()
  t.equal(h.receiver.received.length, 5)
  // One delivery that keeps failing stays retrying: it is not finished, so it stays.
  await db.updateTable('webhook_deliveries').set({ status: 'retrying', succeeded_at: null }).where('id', '=', (await h.deliveries())[0]!.id).execute()
  await db.insertInto('inbound_messages').values([
    { marketplace: 'heroku', message_id: 'old', payload: null, received_at: clock.now() },
    { marketplace: 'heroku', message_id: 'new', payload: null, received_at: new Date(clock.now().getTime() + 20 * day) }
  ]).execute()

  clock.advance(31 * day)
  const job = createRetentionFromServices(h.services, { owner: 'test', batchSize: 2 })
  const deleted = await job.runOnce()
  t.match(deleted, { webhook_deliveries: 4, inbound_messages: 1 }, 'four succeeded deliveries (three batches of at most two), one message id')
  const left = await h.deliveries()
  t.same(left.map((d) => d.status), ['retrying'])
  const attempts = await db.selectFrom('webhook_delivery_attempts').select('delivery_id').execute()
  t.ok(attempts.every((a) => a.delivery_id === left[0]!.id), 'attempts went with their deliveries')
  t.same((await db.selectFrom('inbound_messages').select('message_id').execute()).map((r) => r.message_id), ['new'])
  t.equal((await db.selectFrom('account_events').select('id').execute()).length, 5, 'the event log is kept by default')
  t.equal(deleted!.account_events, undefined)

  t.same(await job.runOnce(), { webhook_deliveries: 0, inbound_messages: 0, jobs: 0, usage_reports: 0, usage_hours: 0, login_tickets: 0 }, 'a second pass finds nothing')
})

t.test('with an event retention, old events without deliveries go; one with a waiting delivery stays', async (t) => {
  const h = await harness(t)
  const { services, clock } = h
  for (let i = 0; i < 3; i++) await h.provision()
  await h.worker.runOnce()
  const waiting = (await h.deliveries())[2]!
  await services.db.updateTable('webhook_deliveries').set({ status: 'dead', succeeded_at: null }).where('id', '=', waiting.id).execute()
  clock.advance(40 * day)
  const job = createRetentionFromServices({ ...services, config: { ...services.config, retention: { days: 30, eventDays: 35 } } }, { owner: 'test' })
  const deleted = await job.runOnce()
  t.match(deleted, { webhook_deliveries: 2, account_events: 2 })
  const events = await services.db.selectFrom('account_events').select('id').execute()
  t.equal(events.length, 1, 'the event of the dead delivery is kept for replay')
})

t.test('finished jobs go, pending ones stay; one instance prunes at a time', async (t) => {
  const h = await harness(t)
  const { services, clock } = h
  const now = clock.now()
  for (const [id, status] of [[services.random.uuid(), 'succeeded'], [services.random.uuid(), 'pending'], [services.random.uuid(), 'dead']] as const) {
    await services.db.insertInto('jobs').values({ id, kind: 'test', account_id: null, payload: '{}', secret_encrypted: null, status, attempts: 1, max_attempts: 5, run_at: now, created_at: now, updated_at: now } as never).execute()
  }
  clock.advance(31 * day)
  const leases = createLeaseStore({ db: services.db, clock })
  t.ok(await leases.tryAcquire('retention', 'other-instance', 60_000))
  const job = createRetentionFromServices(services, { owner: 'test' })
  t.equal(await job.runOnce(), undefined, 'another instance holds the lease')
  await leases.release('retention', 'other-instance')
  t.match(await job.runOnce(), { jobs: 1 })
  t.same((await services.db.selectFrom('jobs').select('status').orderBy('status').execute()).map((r) => r.status), ['dead', 'pending'])
})

t.test('uuidv7Floor sorts below every UUIDv7 made from that millisecond on', async (t) => {
  const h = await harness(t)
  const at = h.clock.now()
  const id = h.services.random.uuid()
  const { rows } = await sql<{ below: boolean, above: boolean }>`select ${uuidv7Floor(at)}::uuid <= ${id}::uuid as below,
    ${uuidv7Floor(new Date(at.getTime() + 1))}::uuid > ${id}::uuid as above`.execute(h.services.db)
  t.same(rows[0], { below: true, above: true })
})
