import t from 'tap'
import { claimDue } from '../../../src/webhooks/delivery.claim.js'
import { recordAttempt } from '../../../src/webhooks/delivery.record.js'
import { harness, type Harness } from './harness.js'
import { status } from './receiver.js'

/** Polls `check` until it is true, at most `ms` (the work is another loop's, not a timer's). */
async function until (check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const counts = async (h: Harness) => {
  const rows = await h.deliveries()
  const by: Record<string, number> = {}
  for (const r of rows) by[r.status] = (by[r.status] ?? 0) + 1
  return by
}

/** Every delivery that any worker may still be holding has been recorded or released. */
const settled = async (h: Harness) => {
  const held = await h.services.db.selectFrom('webhook_deliveries').select('id').where('lease_owner', 'is not', null).execute()
  return held.length === 0
}

async function fiftyWaitingThenGone (t: Parameters<typeof harness>[0]) {
  const h = await harness(t, status(410))
  for (let i = 0; i < 50; i++) await h.provision(`gone-${i}`)
  // Ten in flight at once: several 410s race the disabling and each other.
  const w = h.newWorker({ batchSize: 10, pollMs: 5 })
  w.start()
  await until(async () => {
    const ep = await h.services.db.selectFrom('webhook_endpoints').select('enabled').executeTakeFirstOrThrow()
    return !ep.enabled && await settled(h)
  })
  await w.stop()
  return h
}

t.test('a 410 under load ends every waiting delivery of the endpoint, in flight or not', async (t) => {
  const h = await fiftyWaitingThenGone(t)
  t.same(await counts(h), { dead: 50 }, 'none left pending')
  t.ok(h.receiver.received.length >= 1 && h.receiver.received.length <= 10, `${h.receiver.received.length} sent before it was disabled`)
  const events = await h.services.db.selectFrom('account_events').select('id').where('type', '=', 'endpoint.disabled').execute()
  t.equal(events.length, 1, 'disabled once')
})

t.test('recover reports exactly what it brought back; a second recover brings back nothing', async (t) => {
  const h = await fiftyWaitingThenGone(t)
  const { app, auth, clock } = h
  h.receiver.respond = status(204)
  const enabled = await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth, payload: { enabled: true } })
  t.equal(enabled.statusCode, 200)
  t.equal(enabled.json().failing_since, null)

  const since = new Date(clock.now().getTime() - 3600_000).toISOString()
  const recover = () => app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/recover`, headers: auth, payload: { since } })
  const res = await recover()
  t.equal(res.statusCode, 202)
  const pending = (await h.deliveries()).filter((d) => d.status === 'pending').length
  t.equal(pending, 51)
  // The 50 it had, and its own endpoint.disabled notice: an event of the period it missed.
  t.same(res.json(), { recovered: 51, revived: 50, created: 1, in_flight: 0 }, 'the count is the rows brought back')
  t.same((await recover()).json(), { recovered: 0, revived: 0, created: 0, in_flight: 0 }, 'idempotent')

  await h.newWorker({ batchSize: 100 }).runOnce()
  t.same(await counts(h), { succeeded: 51 })
})

t.test('an attempt in flight when the endpoint is disabled ends dead, and its late 410 does not disable the re-enabled endpoint', async (t) => {
  const h = await harness(t)
  const { app, auth, clock, services } = h
  await h.provision('x')
  await h.provision('y')
  // A worker holds x's attempt (claimed, still sending) while the endpoint is disabled.
  const [x] = await claimDue(services.db, 'slow-worker', clock.now(), { limit: 1, leaseMs: 60_000 })
  const startedAt = clock.now()
  const patch = (enabled: boolean) => app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth, payload: { enabled } })
  t.equal((await patch(false)).statusCode, 200)
  t.same(await counts(h), { dead: 2 }, 'disabling ends the waiting one and the one in flight')
  clock.advance(1000)
  t.equal((await patch(true)).statusCode, 200)

  const since = new Date(startedAt.getTime() - 1000).toISOString()
  const recover = async () => (await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${h.endpoint.id}/recover`, headers: auth, payload: { since } })).json()
  t.same(await recover(), { recovered: 1, revived: 1, created: 0, in_flight: 1 }, 'the one in flight is left to its worker')

  // The slow attempt now comes back with a 410 answered before the disable.
  const late = await recordAttempt(services.db, { clock, random: services.random }, x!, 'slow-worker',
    { at: startedAt, durationMs: 900, statusCode: 410, excerpt: null, error: 'HTTP 410' }, { action: 'disable_endpoint', reason: 'gone' })
  t.same(late, { recorded: true, endpointDisabled: false })
  const ep = (await app.inject({ method: 'GET', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth })).json()
  t.match(ep, { enabled: true, failing_since: null }, 'still enabled, no streak')
  const row = await services.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', x!.id).executeTakeFirstOrThrow()
  t.match(row, { status: 'dead', lease_owner: null, last_status_code: 410 })
  t.same(await recover(), { recovered: 1, revived: 1, created: 0, in_flight: 0 }, 'recorded: now recover brings it back')
  await h.worker.runOnce()
  t.same(await counts(h), { succeeded: 2 })
})

t.test('a late failure that would extend a stale streak does not disable a re-enabled endpoint', async (t) => {
  const h = await harness(t, status(500))
  const { app, auth, clock, services } = h
  await h.provision('s')
  // Failing for 6 days: the next failure would disable it.
  await services.db.updateTable('webhook_endpoints').set({ failing_since: new Date(clock.now().getTime() - 6 * 86400_000) }).execute()
  const [s] = await claimDue(services.db, 'slow-worker', clock.now(), { limit: 1, leaseMs: 60_000 })
  await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth, payload: { enabled: false } })
  await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${h.endpoint.id}`, headers: auth, payload: { enabled: true } })
  const late = await recordAttempt(services.db, { clock, random: services.random }, s!, 'slow-worker',
    { at: clock.now(), durationMs: 5, statusCode: 500, excerpt: null, error: 'HTTP 500' }, { action: 'retry', at: new Date(clock.now().getTime() + 5000) })
  t.same(late, { recorded: true, endpointDisabled: false })
  const ep = await services.db.selectFrom('webhook_endpoints').selectAll().executeTakeFirstOrThrow()
  t.match(ep, { enabled: true, failing_since: null })
})
