import t from 'tap'
import { retrySchedule } from '../../../core/index.js'
import { claimDue } from '../../../src/webhooks/delivery.claim.js'
import { recordAttempt, recordSuccesses } from '../../../src/webhooks/delivery.record.js'
import { harness, testTimeoutMs } from './harness.js'
import { status } from './receiver.js'

t.test('a lifecycle event arrives signed per Standard Webhooks, verified by the standardwebhooks package', async (t) => {
  const h = await harness(t)
  const eventId = await h.provision('res-1')
  t.equal(await h.worker.runOnce(), 1)
  t.equal(h.receiver.received.length, 1)
  const got = h.receiver.received[0]!
  t.same(got.verifiedBy, [h.endpoint.secret], 'verify() accepts it')
  t.equal(got.headers['webhook-id'], eventId)
  t.equal(got.headers['webhook-timestamp'], String(Math.floor(h.clock.now().getTime() / 1000)))
  t.match(got.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/)
  t.equal(got.headers['content-type'], 'application/json')
  const body = JSON.parse(got.body)
  t.match(body, {
    type: 'account.provisioned',
    timestamp: h.clock.now().toISOString(),
    data: { event_id: eventId, account: { product: 'default', marketplace: 'heroku', external_id: 'res-1', plan: 'basic', status: 'active' } }
  })
  const [d] = await h.deliveries()
  t.match(d, { status: 'succeeded', attempts: 1, last_status_code: 204 })
  const attempts = await h.services.db.selectFrom('webhook_delivery_attempts').selectAll().execute()
  t.match(attempts, [{ delivery_id: d!.id, attempt: 1, status_code: 204, outcome: 'succeeded', worker: 'w1', error: null }])
  t.equal(await h.worker.runOnce(), 0, 'nothing left to do')
})

t.test('the body keeps the account as the event left it, and retries send the same bytes', async (t) => {
  const h = await harness(t, status(500))
  await h.provision('res-1')
  await h.services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'res-1' } }, { type: 'cancel' })
  await h.worker.runOnce()
  h.clock.advance(retrySchedule[0]!)
  await h.worker.runOnce()
  const provisioned = h.receiver.received.filter((r) => JSON.parse(r.body).type === 'account.provisioned')
  t.equal(provisioned.length, 2)
  t.equal(JSON.parse(provisioned[0]!.body).data.account.status, 'active', 'not the later cancelled state')
  t.equal(provisioned[0]!.body, provisioned[1]!.body)
  t.equal(provisioned[0]!.headers['webhook-id'], provisioned[1]!.headers['webhook-id'])
  t.not(provisioned[0]!.headers['webhook-timestamp'], provisioned[1]!.headers['webhook-timestamp'], 'fresh timestamp per attempt')
  t.same(provisioned[1]!.verifiedBy, [h.endpoint.secret])
})

t.test('failures retry on the schedule, then the delivery is dead', async (t) => {
  const h = await harness(t, status(500, {}, 'boom'))
  await h.provision()
  t.equal(await h.worker.runOnce(), 1)
  for (const [i, step] of retrySchedule.entries()) {
    h.clock.advance(step - 1)
    t.equal(await h.worker.runOnce(), 0, `not due 1 ms before step ${i + 1}`)
    h.clock.advance(1)
    t.equal(await h.worker.runOnce(), 1, `due at step ${i + 1}`)
  }
  t.equal(h.receiver.received.length, retrySchedule.length + 1)
  const [d] = await h.deliveries()
  t.match(d, { status: 'dead', attempts: 8, last_status_code: 500, last_error: 'HTTP 500' })
  h.clock.advance(100 * 3600_000)
  t.equal(await h.worker.runOnce(), 0)
  const attempts = await h.services.db.selectFrom('webhook_delivery_attempts').selectAll().orderBy('id').execute()
  t.same(attempts.map((a) => a.attempt), [1, 2, 3, 4, 5, 6, 7, 8])
  t.equal(attempts[0]!.response_excerpt, 'boom')
})

t.test('a 2xx after failures succeeds and clears the failure streak', async (t) => {
  const h = await harness(t, (_r, n, res) => { res.statusCode = n < 3 ? 502 : 200 })
  await h.provision()
  await h.worker.runOnce()
  const failing = await h.services.db.selectFrom('webhook_endpoints').select('failing_since').executeTakeFirstOrThrow()
  t.same(failing.failing_since, h.clock.now())
  h.clock.advance(retrySchedule[0]!)
  await h.worker.runOnce()
  h.clock.advance(retrySchedule[1]!)
  await h.worker.runOnce()
  t.match((await h.deliveries())[0], { status: 'succeeded', attempts: 3 })
  t.equal((await h.services.db.selectFrom('webhook_endpoints').select('failing_since').executeTakeFirstOrThrow()).failing_since, null)
})

t.test('410 Gone disables the endpoint, ends its deliveries and records endpoint.disabled', async (t) => {
  const h = await harness(t, status(410))
  await h.provision('a')
  await h.provision('b')
  await h.worker.runOnce()
  const ep = await h.services.db.selectFrom('webhook_endpoints').selectAll().executeTakeFirstOrThrow()
  t.equal(ep.enabled, false)
  t.equal(ep.disabled_reason, 'gone')
  t.same((await h.deliveries()).map((d) => d.status), ['dead', 'dead'])
  const events = await h.services.db.selectFrom('account_events').selectAll().where('type', '=', 'endpoint.disabled').execute()
  t.equal(events.length, 1)
  t.match(events[0]!.data, { endpoint_id: h.endpoint.id, reason: 'gone' })
  await h.provision('c')
  t.equal((await h.deliveries()).length, 2, 'a disabled endpoint gets no new deliveries')
})

t.test('429 and 503 honour Retry-After within bounds', async (t) => {
  const h = await harness(t, (_r, n, res) => {
    res.writeHead(n === 1 ? 429 : 503, { 'retry-after': n === 1 ? '120' : '1' })
  })
  await h.provision()
  await h.worker.runOnce()
  let [d] = await h.deliveries()
  t.equal(d!.next_attempt_at.getTime() - h.clock.now().getTime(), 120_000, '120 s asked, 5 s scheduled: waits 120 s')
  h.clock.advance(120_000)
  await h.worker.runOnce();
  [d] = await h.deliveries()
  t.equal(d!.next_attempt_at.getTime() - h.clock.now().getTime(), retrySchedule[1], '1 s asked, 5 min scheduled: waits 5 min')
  t.equal(d!.last_status_code, 503)
})

t.test('a receiver that hangs past the timeout is a failed attempt', async (t) => {
  const h = await harness(t, () => 'hang')
  await h.provision()
  await h.worker.runOnce()
  const [d] = await h.deliveries()
  t.match(d, { status: 'retrying', last_status_code: null, last_error: `timed out after ${testTimeoutMs} ms` })
  const [a] = await h.services.db.selectFrom('webhook_delivery_attempts').selectAll().execute()
  t.ok(a!.duration_ms >= testTimeoutMs - 20 && a!.duration_ms < testTimeoutMs * 5, `duration ${a!.duration_ms} ms`)
})

t.test('redirects are not followed: a 3xx is a failure', async (t) => {
  const h = await harness(t, status(307, { location: 'http://127.0.0.1:9/elsewhere' }))
  await h.provision()
  await h.worker.runOnce()
  t.equal(h.receiver.received.length, 1)
  t.match((await h.deliveries())[0], { status: 'retrying', last_status_code: 307 })
})

t.test('connection refused is a failed attempt with the error recorded', async (t) => {
  const h = await harness(t)
  await h.services.db.updateTable('webhook_endpoints').set({ url: 'http://127.0.0.1:9/closed' }).execute()
  await h.provision()
  await h.worker.runOnce()
  t.match((await h.deliveries())[0], { status: 'retrying', last_status_code: null, last_error: /ECONNREFUSED/ })
})

t.test('an endpoint failing for 5 days in a row is disabled, with an endpoint.disabled event', async (t) => {
  const h = await harness(t, status(500))
  const day = 24 * 3600_000
  // A second endpoint hears about it.
  const other = await h.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: h.auth, payload: { url: 'http://127.0.0.1:9/ops', events: ['endpoint.disabled'] } })
  t.equal(other.statusCode, 201)
  await h.provision('d0')
  await h.worker.runOnce()
  for (let i = 1; i <= 4; i++) {
    h.clock.advance(day)
    await h.provision(`d${i}`)
    await h.worker.runOnce()
    t.equal((await h.services.db.selectFrom('webhook_endpoints').select('enabled').where('id', '=', h.endpoint.id).executeTakeFirstOrThrow()).enabled, true, `day ${i}`)
  }
  h.clock.advance(day)
  await h.provision('d5')
  await h.worker.runOnce()
  const ep = await h.services.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', h.endpoint.id).executeTakeFirstOrThrow()
  t.match(ep, { enabled: false, disabled_reason: 'failing' })
  const ev = await h.services.db.selectFrom('account_events').selectAll().where('type', '=', 'endpoint.disabled').execute()
  t.equal(ev.length, 1)
  t.match(ev[0]!.data, { endpoint_id: h.endpoint.id, reason: 'failing', failing_since: '2026-11-27T10:00:00.000Z' })
  const toOther = await h.services.db.selectFrom('webhook_deliveries').select('event_id').where('endpoint_id', '=', other.json().id).execute()
  t.same(toOther.map((d) => d.event_id), [ev[0]!.id])
})

t.test('a worker stopped mid-lease loses nothing: the lease expires and another worker delivers', async (t) => {
  const h = await harness(t)
  await h.provision()
  // The first worker claims and then "dies": it never sends nor records.
  const claimed = await claimDue(h.services.db, 'dead-worker', h.clock.now(), { limit: 10, leaseMs: 60_000 })
  t.equal(claimed.length, 1)
  const other = h.newWorker()
  t.equal(await other.runOnce(), 0, 'leased: not due for anyone else')
  h.clock.advance(59_999)
  t.equal(await other.runOnce(), 0)
  h.clock.advance(1)
  t.equal(await other.runOnce(), 1, 'the lease ran out')
  t.equal(h.receiver.received.length, 1)
  t.match((await h.deliveries())[0], { status: 'succeeded', attempts: 2 })
  // The dead worker wakes up late: its result is fenced off and overwrites nothing.
  const late = await recordAttempt(h.services.db, { clock: h.clock, random: h.services.random }, claimed[0]!, 'dead-worker',
    { at: h.clock.now(), durationMs: 1, statusCode: 500, excerpt: null, error: 'HTTP 500' }, { action: 'retry', at: h.clock.now() })
  t.equal(late.recorded, false)
  t.match((await h.deliveries())[0], { status: 'succeeded', last_status_code: 204 })
})

t.test('a round records its successes together and each failure apart, all fenced by the lease', async (t) => {
  // Every third request fails: one round of 9 holds 6 successes and 3 failures.
  const h = await harness(t, (_req, n, res) => { res.statusCode = n % 3 === 0 ? 500 : 204 })
  for (let i = 0; i < 9; i++) await h.provision()
  const w = h.newWorker({ batchSize: 20 })
  t.equal(await w.runOnce(), 9)
  const rows = await h.deliveries()
  t.same(rows.map((d) => d.status).sort(), [...Array(6).fill('succeeded'), ...Array(3).fill('retrying')].sort())
  const attempts = await h.services.db.selectFrom('webhook_delivery_attempts').select(['delivery_id', 'attempt', 'outcome', 'status_code', 'worker']).execute()
  t.equal(attempts.length, 9, 'one attempt row per request')
  t.equal(attempts.filter((a) => a.outcome === 'succeeded' && a.status_code === 204).length, 6)
  t.equal(attempts.filter((a) => a.outcome === 'failed' && a.status_code === 500).length, 3)
  t.ok(attempts.every((a) => a.attempt === 1 && a.worker === 'w2'))
  const ep = await h.services.db.selectFrom('webhook_endpoints').select('failing_since').where('id', '=', h.endpoint.id).executeTakeFirstOrThrow()
  t.not(ep.failing_since, null, 'a failure in the round starts the failing streak')

  // A late success from a worker that lost its lease overwrites nothing, but its attempt is kept.
  await h.provision()
  const claimed = await claimDue(h.services.db, 'late-worker', h.clock.now(), { limit: 1, leaseMs: 1000 })
  h.clock.advance(1000)
  t.equal(await h.newWorker().runOnce(), 1, 'the lease ran out and another worker sent it')
  const recorded = await recordSuccesses(h.services.db, { clock: h.clock, random: h.services.random }, 'late-worker',
    [{ claimed: claimed[0]!, attempt: { at: h.clock.now(), durationMs: 3, statusCode: 200, excerpt: 'late', error: null } }])
  t.same([...recorded], [], 'fenced off')
  const row = await h.services.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', claimed[0]!.id).executeTakeFirstOrThrow()
  t.match(row, { status: 'succeeded', attempts: 2, last_status_code: 204, lease_owner: null })
  const late = await h.services.db.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', '=', claimed[0]!.id).where('worker', '=', 'late-worker').execute()
  t.match(late, [{ attempt: 1, status_code: 200, outcome: 'succeeded', response_excerpt: 'late' }])
})

t.test('a receiver body with a NUL byte is recorded without it, and does not hold back its group', async (t) => {
  const h = await harness(t, (_req, n, res) => { res.statusCode = 200; res.setHeader('content-type', 'text/plain'); res.end(n === 2 ? 'ok\u0000done' : 'ok') })
  for (let i = 0; i < 3; i++) await h.provision()
  t.equal(await h.worker.runOnce(), 3)
  t.same((await h.deliveries()).map((d) => d.status), ['succeeded', 'succeeded', 'succeeded'])
  const excerpts = (await h.services.db.selectFrom('webhook_delivery_attempts').select('response_excerpt').execute()).map((a) => a.response_excerpt).sort()
  t.same(excerpts, ['ok', 'ok', 'okdone'])
})

t.test('an event stored before account snapshots existed is sent with the account as it is now', async (t) => {
  const h = await harness(t)
  const eventId = await h.provision('legacy-1')
  await h.services.db.updateTable('account_events').set({ account_snapshot: null }).where('id', '=', eventId).execute()
  t.equal(await h.worker.runOnce(), 1)
  const body = JSON.parse(h.receiver.received[0]!.body)
  t.match(body.data, { event_id: eventId, account: { external_id: 'legacy-1', status: 'active', plan: 'basic' } })
})

t.test('start() polls on every engine and stop() ends the loop', async (t) => {
  const h = await harness(t)
  const w = h.newWorker({ pollMs: 20 })
  w.start()
  await h.provision()
  await h.receiver.waitFor(1)
  await w.stop()
  t.same(h.receiver.received[0]!.verifiedBy, [h.endpoint.secret])
})
