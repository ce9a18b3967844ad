import t from 'tap'
import { build } from '../../helpers/build.js'

t.test('recover leaves alone a delivery that a worker holds right now', async (t) => {
  const { app, services, auth, clock } = await build(t)
  const ep = (await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'http://127.0.0.1:9/hook' } })).json()
  await services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'r-1' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  const inAMinute = new Date(clock.now().getTime() + 60_000)
  await services.db.updateTable('webhook_deliveries').set({ status: 'retrying', lease_owner: 'worker-1', lease_expires_at: inAMinute }).execute()
  const since = new Date(clock.now().getTime() - 3600_000).toISOString()
  let res = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${ep.id}/recover`, headers: auth, payload: { since } })
  t.match(res.json(), { recovered: 0 })
  clock.advance(60_001)
  res = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${ep.id}/recover`, headers: auth, payload: { since } })
  t.match(res.json(), { recovered: 1 })
  const row = await services.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow()
  t.match(row, { status: 'pending', lease_owner: null })
})
