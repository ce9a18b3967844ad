import t from 'tap'
import { fakeClientSecret } from '../../../fakes/heroku-fake.js'
import { v3Body } from '../../../helpers/heroku.js'
import { grantCode, platform, resourceUuid } from './helpers.js'

t.test('a provision with a grant queues the exchange with the commit; the worker exchanges it, seals the tokens and fetches the app', async (t) => {
  const h = await platform(t)
  const res = await h.provision()
  t.equal(res.statusCode, 200)
  let jobs = await h.jobs()
  t.same(jobs.map((j) => [j.kind, j.status]), [['heroku.exchange_grant', 'pending']], 'queued in the provision\'s transaction')
  t.notMatch(jobs[0]!.secret_encrypted, grantCode, 'the code is sealed at rest')
  t.notMatch(JSON.stringify(jobs[0]!.payload), grantCode)

  t.equal(await h.worker.runOnce(), 1)
  const [exchange] = h.heroku.calls('POST /oauth/token')
  t.match(exchange!.headers['content-type'], /^application\/x-www-form-urlencoded/)
  t.same(exchange!.form, { grant_type: 'authorization_code', code: grantCode, client_secret: fakeClientSecret })

  const account = await h.account()
  t.match(account.metadata.heroku_oauth, { status: 'active', at: '2026-11-27T10:00:00.000Z' })
  const token = await h.services.db.selectFrom('oauth_tokens').selectAll().executeTakeFirstOrThrow()
  const access = [...h.heroku.accessTokens.keys()][0]!
  t.notMatch(token.access_token_encrypted, access, 'sealed')
  t.equal(h.services.secrets.open(token.access_token_encrypted), access)
  t.equal(new Date(token.expires_at).toISOString(), new Date(h.clock.now().getTime() + 28799_000).toISOString(), 'expires_in from Heroku')
  jobs = await h.jobs()
  t.match(jobs[0], { kind: 'heroku.exchange_grant', status: 'succeeded', secret_encrypted: null })
  t.match(jobs[1], { kind: 'heroku.fetch_app_metadata', status: 'pending' })

  t.equal(await h.worker.runOnce(), 1)
  const [getAddon] = h.heroku.calls('GET /addons')
  t.equal(getAddon!.path, `/addons/${resourceUuid}`)
  t.equal(getAddon!.headers.accept, 'application/vnd.heroku+json; version=3')
  t.equal(getAddon!.headers.authorization, `Bearer ${access}`)
  t.equal(h.heroku.calls('GET /apps')[0]!.path, '/apps/app-0001')
  const after = await h.account()
  t.same(after.metadata.heroku_app, { id: 'app-0001', name: 'my-app', owner_email: 'owner@example.com' })
  t.equal(after.metadata.heroku_plan, 'acme-db:basic')
  t.same(await h.eventTypes(), ['account.provisioned'], 'facts change no lifecycle event')
  t.equal(await h.worker.runOnce(), 0, 'nothing left')
})

t.test('a running worker is woken by the provision\'s commit: the exchange does not wait for a poll', async (t) => {
  const h = await platform(t)
  const { createJobWorkerFromServices } = await import('../../../../src/jobs/job.wiring.js')
  const live = createJobWorkerFromServices(h.services, { workerId: 'live', pollMs: 3_600_000 })
  live.start()
  t.teardown(async () => { live.detach(); await live.stop() })
  const exchanged = h.heroku.next('POST /oauth/token')
  await h.provision()
  t.equal((await exchanged).form?.code, grantCode, 'exchanged right after the commit, with an hour-long poll interval')
})

t.test('a repeated provision does not exchange the (single-use) grant again', async (t) => {
  const h = await platform(t)
  const first = await h.provision()
  await h.worker.drain()
  const again = await h.provision()
  t.equal(again.body, first.body)
  t.equal(await h.worker.drain(), 0)
  t.equal(h.heroku.calls('POST /oauth/token').length, 1)
})

t.test('an expired grant is visible on the account and in the logs at once, and the job is dead', async (t) => {
  const h = await platform(t)
  h.heroku.grants.set(grantCode, 'expired')
  await h.provision()
  t.equal(await h.worker.runOnce(), 1)
  const account = await h.account()
  t.match(account.metadata.heroku_oauth, { status: 'failed', error: /invalid_grant/, at: '2026-11-27T10:00:00.000Z' })
  t.equal(account.status, 'active', 'the add-on itself still works')
  const [job] = await h.jobs()
  t.match(job, { kind: 'heroku.exchange_grant', status: 'dead', attempts: 1, last_error: /HTTP 400 invalid_grant/ })
  t.equal(h.heroku.calls('POST /oauth/token').length, 1, 'not retried')
  const warning = h.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'Heroku OAuth failed for this add-on')
  t.match(warning, { level: 40, account: account.id, error: /invalid_grant/ })
  const listed = await h.app.inject({ method: 'GET', url: `/v1/accounts/${account.id}`, headers: h.auth })
  t.match(listed.json().metadata.heroku_oauth, { status: 'failed' })
})

t.test('Heroku 5xx and 429 are retried with backoff, honouring Retry-After', async (t) => {
  const h = await platform(t)
  h.heroku.fail('POST /oauth/token', { status: 500 }, { status: 429, retryAfter: '30' })
  await h.provision()
  t.equal(await h.worker.runOnce(), 1)
  let [job] = await h.jobs()
  t.match(job, { status: 'pending', attempts: 1, last_error: /HTTP 500/ })
  t.equal(new Date(job!.run_at).getTime() - h.clock.now().getTime(), 1500, 'exchange backoff: 2 s step, half fixed, half jittered (0.5)')
  t.equal(await h.worker.runOnce(), 0, 'not before')
  h.clock.advance(1500)
  t.equal(await h.worker.runOnce(), 1)
  ;[job] = await h.jobs()
  t.match(job, { status: 'pending', attempts: 2, last_error: /HTTP 429/ })
  t.equal(new Date(job!.run_at).getTime() - h.clock.now().getTime(), 30_000, 'Retry-After: 30 beats the 3 s backoff')
  h.clock.advance(29_999)
  t.equal(await h.worker.runOnce(), 0)
  h.clock.advance(1)
  t.equal(await h.worker.runOnce(), 1)
  t.match((await h.jobs())[0], { status: 'succeeded', attempts: 3, last_error: null })
  t.match((await h.account()).metadata.heroku_oauth, { status: 'active' })
  t.equal(h.heroku.calls('POST /oauth/token').length, 3)
})

t.test('an exchange failing on every attempt ends dead and failed on the account, within the grant\'s minutes', async (t) => {
  const h = await platform(t)
  h.heroku.fail('POST /oauth/token', ...Array.from({ length: 6 }, () => ({ status: 503 })))
  await h.provision()
  const start = h.clock.now().getTime()
  for (let i = 0; i < 6; i++) {
    t.equal(await h.worker.runOnce(), 1)
    const [job] = await h.jobs()
    if (job!.status === 'pending') h.clock.set(job!.run_at)
  }
  const [job] = await h.jobs()
  t.match(job, { status: 'dead', attempts: 6 })
  t.ok(h.clock.now().getTime() - start < 5 * 60_000, 'all six attempts inside 5 minutes')
  t.match((await h.account()).metadata.heroku_oauth, { status: 'failed', error: /HTTP 503/ })
})

t.test('the access token is refreshed when within 5 minutes of expiry, before the Platform API call', async (t) => {
  const h = await platform(t)
  await h.provision()
  await h.worker.drain()
  const firstAccess = h.heroku.calls('GET /addons')[0]!.headers.authorization
  const { id } = await h.account()
  const rotate = () => h.app.inject({ method: 'POST', url: `/v1/accounts/${id}/rotate-credentials`, headers: h.auth })

  h.clock.advance(28799_000 - 5 * 60_000 - 1000)
  t.equal((await rotate()).statusCode, 200)
  await h.worker.drain()
  t.equal(h.heroku.calls('POST /oauth/token').length, 1, 'still 5 min + 1 s left: no refresh')
  t.equal(h.heroku.calls('PATCH /addons/config')[0]!.headers.authorization, firstAccess)

  h.clock.advance(2000)
  t.equal((await rotate()).statusCode, 200)
  await h.worker.drain()
  const refresh = h.heroku.calls('POST /oauth/token')[1]!
  const refreshToken = [...h.heroku.refreshTokens.keys()][0]!
  t.same(refresh.form, { grant_type: 'refresh_token', refresh_token: refreshToken, client_secret: fakeClientSecret })
  const patch = h.heroku.calls('PATCH /addons/config')[1]!
  t.not(patch.headers.authorization, firstAccess, 'the new access token')
  t.equal(patch.headers.authorization, `Bearer ${[...h.heroku.accessTokens.keys()][1]}`)
  const stored = await h.services.db.selectFrom('oauth_tokens').selectAll().executeTakeFirstOrThrow()
  t.equal(new Date(stored.expires_at).getTime(), h.clock.now().getTime() + 28799_000)
  t.equal(h.services.secrets.open(stored.refresh_token_encrypted), refreshToken, 'Heroku kept the refresh token, so do we')
})

t.test('a refresh Heroku refuses is visible on the account and the call is dead', async (t) => {
  const h = await platform(t)
  await h.provision()
  await h.worker.drain()
  const account = await h.account()
  h.heroku.refreshTokens.clear()
  h.clock.advance(8 * 3600_000)
  t.equal((await h.app.inject({ method: 'POST', url: `/v1/accounts/${account.id}/rotate-credentials`, headers: h.auth })).statusCode, 200)
  await h.worker.drain()
  t.match((await h.account()).metadata.heroku_oauth, { status: 'failed', error: /refresh: HTTP 400 invalid_grant/ })
  t.match((await h.jobs()).at(-1), { kind: 'heroku.update_config', status: 'dead' })
})

t.test('without HEROKU_OAUTH_CLIENT_SECRET no exchange is queued', async (t) => {
  const h = await platform(t, { HEROKU_OAUTH_CLIENT_SECRET: '' })
  t.equal((await h.provision(v3Body())).statusCode, 200)
  t.same(await h.jobs(), [])
})

t.test('no grant code, token, client secret or API key reaches the logs', async (t) => {
  const h = await platform(t, { MARKETGATE_LOG_LEVEL: 'trace' })
  h.heroku.fail('POST /oauth/token', { status: 500 })
  const key = (await h.provision()).json().config.ACME_DB_API_KEY as string
  h.clock.advance(60_000)
  await h.worker.drain()
  const account = await h.account()
  await h.app.inject({ method: 'POST', url: `/v1/accounts/${account.id}/rotate-credentials`, headers: h.auth })
  h.clock.advance(8 * 3600_000)
  await h.worker.drain()
  await h.app.inject({ method: 'POST', url: '/v1/api-keys/verify', headers: h.auth, payload: { api_key: key } })
  const text = h.logs.join('')
  t.ok(h.logs.length >= 8, `the flow logged (${h.logs.length} lines)`)
  for (const secret of [grantCode, fakeClientSecret, key, ...h.heroku.accessTokens.keys(), ...h.heroku.refreshTokens.keys()]) {
    t.notOk(text.includes(secret), `no ${secret.slice(0, 12)}… in the logs`)
  }
})
