import t from 'tap'
import { build, type Built } from '../../helpers/build.js'
import { addEndpoint, allRows, basicAuth, herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../helpers/heroku.js'

const missingUuid = 'ffffffff-0000-4000-8000-00000000dead'
const url = (id: string = resourceUuid) => `/heroku/resources/${id}`

async function provisioned (t: { teardown(fn: () => unknown): void, equal(a: unknown, b: unknown): void }, env: Record<string, string> = {}): Promise<Built> {
  const built = await build(t, { ...herokuEnv, ...env })
  await addEndpoint(built.services)
  const res = await built.app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body() })
  t.equal(res.statusCode, 200)
  return built
}

t.test('a plan change records account.plan_changed with the previous plan, and an outbox row', async (t) => {
  const { app, services } = await provisioned(t)
  const res = await app.inject({ method: 'PUT', url: url(), headers: herokuHeaders, payload: { plan: 'pro', heroku_id: 'app1234@kensa.heroku.com', uuid: missingUuid } })
  t.equal(res.statusCode, 200)
  t.type(res.json().message, 'string')
  const rows = await allRows(services)
  t.equal(rows.accounts[0]!.plan, 'pro')
  t.same(rows.events.map((e) => e.type), ['account.provisioned', 'account.plan_changed'])
  t.same(rows.events[1]!.data, { previous_plan: 'basic', plan: 'pro' })
  t.same(rows.deliveries.map((d) => d.event_id), rows.events.map((e) => e.id))
})

t.test('a plan change to the current plan is a 200 that records nothing', async (t) => {
  const { app, services } = await provisioned(t)
  const before = await allRows(services)
  const res = await app.inject({ method: 'PUT', url: url(), headers: herokuHeaders, payload: { plan: 'basic' } })
  t.equal(res.statusCode, 200)
  t.same(await allRows(services), before)
})

t.test('a plan change on an unknown id is 404; on a cancelled one 410; outside the allow-list 422', async (t) => {
  const { app, services } = await provisioned(t, { HEROKU_PLANS: 'basic,pro' })
  const unknown = await app.inject({ method: 'PUT', url: url(missingUuid), headers: herokuHeaders, payload: { plan: 'pro' } })
  t.equal(unknown.statusCode, 404)
  t.type(unknown.json().message, 'string')
  const notOffered = await app.inject({ method: 'PUT', url: url(), headers: herokuHeaders, payload: { plan: 'gold' } })
  t.equal(notOffered.statusCode, 422)
  t.equal((await allRows(services)).events.length, 1, 'nothing recorded')
  await app.inject({ method: 'DELETE', url: url(), headers: herokuHeaders })
  const gone = await app.inject({ method: 'PUT', url: url(), headers: herokuHeaders, payload: { plan: 'pro' } })
  t.equal(gone.statusCode, 410)
})

t.test('a deprovision records account.cancelled and answers 204; again 410; unknown 404', async (t) => {
  const { app, services } = await provisioned(t)
  const res = await app.inject({ method: 'DELETE', url: url(), headers: herokuHeaders })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  const rows = await allRows(services)
  t.equal(rows.accounts[0]!.status, 'cancelled')
  t.same(rows.events.map((e) => e.type), ['account.provisioned', 'account.cancelled'])
  t.match(rows.events[1]!.data, { previous_status: 'active' })
  t.equal(rows.deliveries.length, 2)

  const again = await app.inject({ method: 'DELETE', url: url(), headers: herokuHeaders })
  t.equal(again.statusCode, 410)
  t.type(again.json().message, 'string')
  const unknown = await app.inject({ method: 'DELETE', url: url(missingUuid), headers: herokuHeaders })
  t.equal(unknown.statusCode, 404)
  t.same(await allRows(services), rows, 'neither wrote anything')
})

t.test('Basic auth comes first on every route, for existing and missing resources alike', async (t) => {
  const { app, services } = await provisioned(t)
  const before = await allRows(services)
  const wrong = [
    {},
    basicAuth(herokuEnv.HEROKU_ADDON_ID, 'wrong-password'),
    basicAuth('other-addon', herokuEnv.HEROKU_ADDON_PASSWORD),
    { authorization: `Bearer ${herokuEnv.HEROKU_ADDON_PASSWORD}` }
  ]
  const calls = [
    { method: 'POST' as const, url: '/heroku/resources', payload: v3Body() },
    { method: 'POST' as const, url: '/heroku/resources', payload: '{not json' },
    { method: 'PUT' as const, url: url(), payload: { plan: 'pro' } },
    { method: 'PUT' as const, url: url(missingUuid), payload: { plan: 'pro' } },
    { method: 'DELETE' as const, url: url() },
    { method: 'DELETE' as const, url: url(missingUuid) }
  ]
  for (const headers of wrong) {
    for (const call of calls) {
      const res = await app.inject({ ...call, headers: { ...headers, 'content-type': 'application/json' } })
      t.equal(res.statusCode, 401, `${call.method} ${call.url}`)
      t.match(res.headers['www-authenticate'], /^Basic realm=/)
      t.type(res.json().message, 'string')
    }
  }
  t.same(await allRows(services), before, 'nothing written')
  // Kensa's order: a successful DELETE, then the same DELETE with a wrong password must be 401.
  t.equal((await app.inject({ method: 'DELETE', url: url(), headers: herokuHeaders })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: url(), headers: basicAuth(herokuEnv.HEROKU_ADDON_ID, 'nope-nope') })).statusCode, 401)
})

t.test('unknown routes under /heroku answer in Heroku\'s error shape', async (t) => {
  const { app } = await build(t, herokuEnv)
  for (const [method, path] of [['GET', '/heroku/nothing'], ['PATCH', url()]] as const) {
    const res = await app.inject({ method, url: path, headers: herokuHeaders })
    t.equal(res.statusCode, 404)
    t.match(res.json(), { message: /no route/ })
  }
})

t.test('the Heroku routes are in /openapi.json with Basic auth', async (t) => {
  const { app } = await build(t, herokuEnv)
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.same(doc.paths['/heroku/resources'].post.security, [{ herokuBasic: [] }])
  t.ok(doc.paths['/heroku/resources/{id}'].put)
  t.ok(doc.paths['/heroku/resources/{id}'].delete)
  t.ok(doc.paths['/heroku/sso/login'].post)
})

t.test('the /heroku routes exist only when Heroku is configured', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body() })
  t.equal(res.statusCode, 404)
})
