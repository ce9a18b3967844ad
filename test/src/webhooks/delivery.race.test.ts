import t from 'tap'
import { onPostgres } from '../../helpers/database.js'
import { openDatabase } from '../../../src/storage/database.js'
import { createDeliveryWorker } from '../../../src/webhooks/delivery.worker.js'
import { harness, testTimeoutMs } from './harness.js'

t.test('two workers racing on Postgres attempt each delivery exactly once', { skip: onPostgres ? false : 'needs Postgres (DATABASE_URL=postgres://…)' }, async (t) => {
  const h = await harness(t)
  // A second instance: its own pool, as another gateway process would have.
  const second = await openDatabase({ url: h.services.database.url!, dataDir: '', poolSize: 5 })
  t.teardown(() => second.close())
  const w2 = createDeliveryWorker({
    db: second.db, clock: h.clock, random: h.services.random, secrets: h.services.secrets, logger: h.services.logger,
    metrics: h.services.metrics, engine: 'postgres', databaseUrl: null, fraction: () => 0.5
  }, { timeoutMs: testTimeoutMs, workerId: 'other-instance', batchSize: 3 })
  t.teardown(() => w2.stop())
  const w1 = h.newWorker({ batchSize: 3 })
  const n = 40
  for (let i = 0; i < n; i++) await h.provision(`race-${i}`)
  let rounds = 0
  while (true) {
    const [a, b] = await Promise.all([w1.runOnce(), w2.runOnce()])
    if (a + b === 0) break
    rounds++
  }
  t.ok(rounds < n, `${rounds} rounds`)
  const ids = h.receiver.received.map((r) => r.headers['webhook-id'])
  t.equal(ids.length, n, 'one request per event')
  t.equal(new Set(ids).size, n)
  const attempts = await h.services.db.selectFrom('webhook_delivery_attempts').select(['delivery_id', 'worker']).execute()
  t.equal(attempts.length, n)
  t.equal(new Set(attempts.map((a) => a.delivery_id)).size, n, 'one attempt per delivery')
  t.same([...new Set(attempts.map((a) => a.worker))].sort(), [w1.id, 'other-instance'].sort(), 'both workers took part')
})

t.test('a NOTIFY wakes a started worker long before its poll (Postgres: its own connection; PGlite: in process)', { timeout: 30_000 }, async (t) => {
  const h = await harness(t)
  // An hour's poll: only a NOTIFY can deliver before the test's own timeout fails it.
  const w = h.newWorker({ pollMs: 3_600_000 })
  w.start()
  // Let the listener connect: the worker's first idle wait begins after an empty claim.
  await w.runOnce()
  await h.provision()
  await h.receiver.waitFor(1)
  t.equal(h.receiver.received.length, 1, 'delivered on the NOTIFY, not the poll')
  await w.stop()
})
