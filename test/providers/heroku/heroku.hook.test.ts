import t, { type Test } from 'tap'
import { build } from '../../helpers/build.js'
import { addEndpoint, allRows, herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../helpers/heroku.js'
import { answer, hookSecret, startHookServer } from '../../helpers/hook-server.js'
import { herokuManifestText } from '../../../src/manifest.js'

async function setup (t: Test, env: Record<string, string> = {}) {
  const hook = await startHookServer(t)
  const built = await build(t, { ...herokuEnv, ...hook.env, ...env })
  const provision = (body: Record<string, unknown> = v3Body()) => built.app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: body })
  const changePlan = (plan: string) => built.app.inject({ method: 'PUT', url: `/heroku/resources/${resourceUuid}`, headers: herokuHeaders, payload: { plan } })
  const decisions = async (query = '') => (await built.app.inject({ method: 'GET', url: `/v1/hook-decisions${query}`, headers: built.auth })).json()
  return { ...built, hook, provision, changePlan, decisions }
}

async function nothingWritten (t: Test, services: Parameters<typeof allRows>[0]) {
  const rows = await allRows(services)
  t.same([rows.accounts.length, rows.events.length, rows.deliveries.length, rows.credentials.length], [0, 0, 0, 0], 'nothing written')
}

t.test('allowed: 200 with the vendor\'s config (its URL wins), the gateway\'s API key, the log drain and message; a repeat answers the same without asking', async (t) => {
  const h = await setup(t)
  await addEndpoint(h.services)
  h.hook.answer(answer(200, { allow: true, config: { ACME_DB_URL: 'postgres://u:vendor-db-password-99@db-7/acme' }, log_drain_url: 'syslog+tls://logs.acme.example:6514', message: 'Your database is ready.' }))
  const res = await h.provision()
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(Object.keys(body.config), ['ACME_DB_URL', 'ACME_DB_API_KEY'])
  t.equal(body.config.ACME_DB_URL, 'postgres://u:vendor-db-password-99@db-7/acme')
  t.match(body.config.ACME_DB_API_KEY, /^mgk_/)
  t.equal(body.log_drain_url, 'syslog+tls://logs.acme.example:6514')
  t.equal(body.message, 'Your database is ready.')
  t.equal(h.hook.calls.length, 1)
  t.ok(h.hook.calls[0]!.verified)
  t.match(h.hook.calls[0]!.body, { type: 'provision.requested', data: { product: 'default', marketplace: 'heroku', external_id: resourceUuid, plan: 'basic', region: 'amazon-web-services::us-east-1', options: { foo: 'bar' } } })
  const rows = await allRows(h.services)
  t.equal(rows.accounts[0]!.status, 'active')
  t.equal(rows.credentials.length, 2, 'the API key and the vendor\'s config')
  for (const c of rows.credentials) t.notMatch(c.secret_encrypted, /vendor-db-password-99/, 'sealed')

  const again = await h.provision()
  t.equal(again.statusCode, 200)
  t.equal(again.body, res.body, 'a repeat answers exactly as the first call')
  t.equal(h.hook.calls.length, 1, 'the hook is not asked again')
  t.notMatch(h.logs.join(''), /vendor-db-password-99/, 'no config value in the log')
  t.notMatch(h.logs.join(''), new RegExp(hookSecret.slice(6)), 'no hook secret in the log')
})

t.test('HEROKU_CONFIG_VARS may leave the API key out and list the vendor\'s own vars; the manifest lists them', async (t) => {
  const h = await setup(t, { HEROKU_CONFIG_VARS: 'URL,USER,PASSWORD' })
  h.hook.answer(answer(200, { allow: true, config: { ACME_DB_USER: 'u1', ACME_DB_PASSWORD: 'p1' } }))
  const res = await h.provision()
  t.equal(res.statusCode, 200)
  t.same(res.json().config, { ACME_DB_URL: 'http://gateway.test', ACME_DB_USER: 'u1', ACME_DB_PASSWORD: 'p1' }, 'the service URL by default, no API key')
  t.same(JSON.parse(herokuManifestText(h.config)!).api.config_vars, ['ACME_DB_URL', 'ACME_DB_USER', 'ACME_DB_PASSWORD'])
  const h2 = await build(t, { ...herokuEnv })
  t.same(JSON.parse(herokuManifestText(h2.config)!).api.config_vars, ['ACME_DB_URL', 'ACME_DB_API_KEY'], 'the default')
})

t.test('config names outside HEROKU_CONFIG_VARS, or the gateway\'s API key, are undecided (503, nothing written, logged with the name)', async (t) => {
  const h = await setup(t)
  h.hook.answer(answer(200, { allow: true, config: { ACME_DB_PASSWORD: 'x' } }))
  const res = await h.provision()
  t.equal(res.statusCode, 503)
  t.match(res.json(), { message: /not decided/ })
  await nothingWritten(t, h.services)
  t.match(h.logs.join(''), /ACME_DB_PASSWORD, which HEROKU_CONFIG_VARS does not list/)
  h.hook.answer(answer(200, { allow: true, config: { ACME_DB_API_KEY: 'mine' } }))
  t.equal((await h.provision()).statusCode, 503)
  await nothingWritten(t, h.services)
  const listed = await h.decisions('?outcome=undecided')
  t.equal(listed.data.length, 2)
  t.match(listed.data[1].message, /ACME_DB_API_KEY, the gateway's own API key/)
})

t.test('refused: 422 with the vendor\'s message, nothing written; a repeat is refused without asking', async (t) => {
  const h = await setup(t)
  await addEndpoint(h.services)
  h.hook.answer(answer(200, { allow: false, message: 'No capacity in this region.' }))
  const res = await h.provision()
  t.equal(res.statusCode, 422)
  t.same(res.json(), { message: 'No capacity in this region.' })
  await nothingWritten(t, h.services)
  const again = await h.provision()
  t.equal(again.statusCode, 422)
  t.equal(again.body, res.body)
  t.equal(h.hook.calls.length, 1, 'asked once')
  t.match(h.logs.join(''), /No capacity in this region/)

  h.hook.answer(answer(403, { message: 'This team is not a customer.' }))
  const other = await h.provision(v3Body({ uuid: '11111111-89ab-cdef-0123-456789abcdef' }))
  t.same([other.statusCode, other.json()], [422, { message: 'This team is not a customer.' }])
  await nothingWritten(t, h.services)
})

t.test('undecided without a way to finish later: 503, nothing written; the retry asks again with the same webhook-id', async (t) => {
  const h = await setup(t)
  h.hook.answer(answer(500, 'oops'))
  t.equal((await h.provision()).statusCode, 503)
  await nothingWritten(t, h.services)
  h.hook.answer((_c, res) => res.writeHead(307, { location: 'http://127.0.0.1:9/' }).end())
  t.equal((await h.provision()).statusCode, 503)
  h.hook.answer(answer(200, { allow: true }))
  t.equal((await h.provision()).statusCode, 200)
  t.equal(h.hook.calls.length, 3)
  t.equal(new Set(h.hook.calls.map((c) => c.headers['webhook-id'])).size, 1, 'one question, one id')
  const listed = await h.decisions(`?external_id=${resourceUuid}&limit=2`)
  t.same(listed.data.map((d: { outcome: string }) => d.outcome), ['undecided', 'undecided'])
  t.match(listed.data[0], { product: 'default', marketplace: 'heroku', type: 'provision.requested', plan: 'basic', status_code: 500, message: 'the hook answered HTTP 500' })
  const next = await h.decisions(`?external_id=${resourceUuid}&limit=2&cursor=${listed.next_cursor}`)
  t.same(next.data.map((d: { outcome: string }) => d.outcome), ['allowed'])
  t.equal(next.next_cursor, null)
  const metrics = await h.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /marketgate_hook_decisions_total\{type="provision.requested",outcome="undecided"\} 2/)
  t.match(metrics.body, /marketgate_hook_decisions_total\{type="provision.requested",outcome="allowed"\} 1/)
})

t.test('plan change: allowed with new config (200), refused (422, the plan stays), undecided (503, nothing changes); a repeat does not ask again', async (t) => {
  const h = await setup(t)
  t.equal((await h.provision()).statusCode, 200)
  h.hook.answer(answer(200, { allow: false, message: 'Downgrades need support.' }))
  const refused = await h.changePlan('free')
  t.same([refused.statusCode, refused.json()], [422, { message: 'Downgrades need support.' }])
  h.hook.answer(answer(502, {}))
  t.equal((await h.changePlan('premium')).statusCode, 503)
  const rows = await allRows(h.services)
  t.equal(rows.accounts[0]!.plan, 'basic', 'the plan stays')
  t.equal(rows.events.length, 1, 'only account.provisioned')

  h.hook.answer(answer(200, { allow: true, config: { ACME_DB_URL: 'postgres://db-9/acme' }, message: 'Moved to a bigger server.' }))
  const allowed = await h.changePlan('premium')
  t.same([allowed.statusCode, allowed.json()], [200, { message: 'Moved to a bigger server.', config: { ACME_DB_URL: 'postgres://db-9/acme' } }])
  const last = h.hook.calls[h.hook.calls.length - 1]!
  t.match(last.body, { type: 'plan_change.requested', data: { plan: 'premium', previous_plan: 'basic', account: { external_id: resourceUuid, plan: 'basic', status: 'active' } } })
  t.equal((await allRows(h.services)).accounts[0]!.plan, 'premium')
  const asked = h.hook.calls.length
  const again = await h.changePlan('premium')
  t.equal(again.body, allowed.body, 'a repeat answers as the first did')
  t.equal(h.hook.calls.length, asked, 'without asking')
  h.hook.answer(answer(200, { allow: true, config: { OTHER: 'x' } }))
  t.equal((await h.changePlan('basic')).statusCode, 503, 'a name outside the list is undecided')
})

t.test('without a hook nothing is asked or recorded', async (t) => {
  const h = await build(t, { ...herokuEnv })
  const res = await h.app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body() })
  t.equal(res.statusCode, 200)
  const listed = await h.app.inject({ method: 'GET', url: '/v1/hook-decisions', headers: h.auth })
  t.same(listed.json(), { data: [], next_cursor: null })
})
