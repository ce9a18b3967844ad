import t from 'tap'
import { loadConfig } from '../../../../src/config.js'
import { addEndpoint, herokuEnv, v3Body } from '../../../helpers/heroku.js'
import { platform, resourceUuid, type PlatformHarness } from './helpers.js'

const asyncEnv = { HEROKU_PROVISIONING: 'async' }
const complete = (h: PlatformHarness, id: string, payload: unknown) =>
  h.app.inject({ method: 'POST', url: `/v1/accounts/${id}/provisioning`, headers: h.auth, payload: payload as Record<string, unknown> })

t.test('asynchronous provisioning end to end: 202, pending, the vendor completes, config and provision calls, active, account.provisioned', async (t) => {
  const h = await platform(t, asyncEnv)
  const endpointId = await addEndpoint(h.services)
  const res = await h.provision()
  t.equal(res.statusCode, 202)
  t.same(res.json(), { id: resourceUuid, message: 'acme-db is being provisioned; it will be ready shortly.' }, 'no config')
  let account = await h.account()
  t.equal(account.status, 'pending')
  t.equal(account.metadata.provisioning, 'async')
  t.same(await h.eventTypes(), ['account.pending'])
  const outbox = await h.services.db.selectFrom('webhook_deliveries').select('endpoint_id').execute()
  t.same(outbox, [{ endpoint_id: endpointId }], 'account.pending goes to the vendor')

  const again = await h.provision()
  t.equal(again.statusCode, 202)
  t.equal(again.body, res.body, 'a repeat answers the same 202')
  t.same(await h.eventTypes(), ['account.pending'])

  await h.worker.drain()
  t.same(h.heroku.calls('PATCH /addons/config'), [], 'nothing pushed before the vendor is done')
  const shown = await h.app.inject({ method: 'GET', url: `/v1/accounts/${account.id}`, headers: h.auth })
  t.match(shown.json(), { status: 'pending', provisioning_deadline_at: '2026-11-27T22:00:00.000Z', provisioning_overdue: false })

  const done = await complete(h, account.id, { config: { ACME_DB_URL: 'https://db-7.acme.example', ACME_DB_PASSWORD: 'vendor-db-password-99' } })
  t.equal(done.statusCode, 202)
  t.match(done.json().account, { status: 'pending', metadata: { provisioning_state: 'completing' } })
  const queued = (await h.jobs()).find((j) => j.kind === 'heroku.update_config')!
  t.notMatch(queued.secret_encrypted, /vendor-db-password-99/, 'vendor config is sealed in the job')
  t.equal((await complete(h, account.id, { config: {} })).statusCode, 409, 'completing twice is a conflict')

  t.equal(await h.worker.runOnce(), 1)
  const [patch] = h.heroku.calls('PATCH /addons/config')
  const access = [...h.heroku.accessTokens.keys()][0]!
  t.equal(patch!.path, `/addons/${resourceUuid}/config`)
  t.equal(patch!.headers.accept, 'application/vnd.heroku+json; version=3')
  t.equal(patch!.headers.authorization, `Bearer ${access}`)
  t.match(patch!.headers['content-type'], /^application\/json/)
  const apiKey = await (await import('../../../../src/storage/credential.store.js'))
    .createCredentialStore({ db: h.services.db, secrets: h.services.secrets, clock: h.clock, random: h.services.random }).currentApiKey(account.id)
  t.same(patch!.json, {
    config: [
      { name: 'ACME_DB_URL', value: 'https://db-7.acme.example' },
      { name: 'ACME_DB_PASSWORD', value: 'vendor-db-password-99' },
      { name: 'ACME_DB_API_KEY', value: apiKey }
    ]
  }, 'the vendor\'s vars (its URL wins over the gateway\'s) and the gateway\'s API key')
  t.equal((await h.account()).status, 'pending', 'not active before Heroku hears it is provisioned')

  t.equal(await h.worker.runOnce(), 1)
  const [action] = h.heroku.calls('POST /addons/provision')
  t.equal(action!.path, `/addons/${resourceUuid}/actions/provision`)
  t.equal(action!.headers.accept, 'application/vnd.heroku+json; version=3')
  t.equal(action!.headers.authorization, `Bearer ${access}`)
  t.equal(action!.body, '')
  account = await h.account()
  t.equal(account.status, 'active')
  t.equal(account.metadata.provisioning_state, 'provisioned')
  t.same(await h.eventTypes(), ['account.pending', 'account.provisioned'])
  const types = await h.services.db.selectFrom('webhook_deliveries').innerJoin('account_events', 'account_events.id', 'webhook_deliveries.event_id')
    .select('account_events.type').orderBy('webhook_deliveries.id').execute()
  t.same(types.map((r) => r.type), ['account.pending', 'account.provisioned'], 'account.provisioned is in the outbox')
  t.equal(h.heroku.states.get(resourceUuid), 'provisioned')
  t.equal(await h.worker.drain(), 0)
  const final = await h.app.inject({ method: 'GET', url: `/v1/accounts/${account.id}`, headers: h.auth })
  t.notOk('provisioning_overdue' in final.json(), 'no deadline once active')
})

t.test('HEROKU_ASYNC_PLANS makes only those plans asynchronous', async (t) => {
  const h = await platform(t, { HEROKU_ASYNC_PLANS: 'dedicated' })
  t.equal((await h.provision(v3Body({ plan: 'basic' }))).statusCode, 200)
  const res = await h.provision(v3Body({ plan: 'dedicated', uuid: '22222222-89ab-cdef-0123-456789abcdef' }))
  t.equal(res.statusCode, 202)
  t.notOk('config' in res.json())
})

t.test('the vendor reports a failure: the account fails with account.failed and cannot be completed later', async (t) => {
  const h = await platform(t, asyncEnv)
  await h.provision()
  const { id } = await h.account()
  const res = await complete(h, id, { error: 'no capacity in us-east-1' })
  t.equal(res.statusCode, 200)
  t.match(res.json().account, { status: 'failed', metadata: { provisioning_state: 'failed', provisioning_error: 'no capacity in us-east-1' } })
  const events = await h.services.db.selectFrom('account_events').select(['type', 'data']).orderBy('id').execute()
  t.same(events.at(-1), { type: 'account.failed', data: { reason: 'no capacity in us-east-1' } })
  t.equal((await complete(h, id, { config: {} })).statusCode, 409)
})

t.test('completion input is checked: prefix, the reserved API key, sync accounts, unknown ids, body shape', async (t) => {
  const h = await platform(t, { HEROKU_ASYNC_PLANS: 'dedicated' })
  await h.provision(v3Body({ plan: 'dedicated' }))
  const { id } = await h.account()
  const cases: Array<[unknown, number]> = [
    [{ config: { OTHER_URL: 'x' } }, 400],
    [{ config: { acme_db_url: 'x' } }, 400],
    [{ config: { ACME_DB_API_KEY: 'mine' } }, 400],
    [{ config: { ACME_DB_URL: { nested: true } } }, 400],
    [{ config: {}, error: 'both' }, 400],
    [{}, 400]
  ]
  for (const [payload, status] of cases) t.equal((await complete(h, id, payload)).statusCode, status, JSON.stringify(payload))
  t.same((await h.jobs()).filter((j) => j.kind === 'heroku.update_config'), [], 'nothing queued')
  await h.provision(v3Body({ plan: 'basic', uuid: '33333333-89ab-cdef-0123-456789abcdef' }))
  const sync = await h.services.db.selectFrom('accounts').select('id').where('plan', '=', 'basic').executeTakeFirstOrThrow()
  t.equal((await complete(h, sync.id, { config: {} })).statusCode, 409, 'a synchronous add-on has nothing to complete')
  t.equal((await complete(h, '00000000-0000-4000-8000-000000000000', { config: {} })).statusCode, 404)
  t.equal((await h.app.inject({ method: 'POST', url: `/v1/accounts/${id}/provisioning`, payload: { config: {} } })).statusCode, 401)
})

t.test('a Heroku 5xx on the config call is retried; a 4xx on the provision action stalls the provisioning visibly', async (t) => {
  const h = await platform(t, asyncEnv)
  await h.provision()
  await h.worker.drain()
  const { id } = await h.account()
  h.heroku.fail('PATCH /addons/config', { status: 502 })
  h.heroku.fail('POST /addons/provision', { status: 422, body: { id: 'invalid_params', message: 'add-on is not provisioning' } })
  await complete(h, id, { config: {} })
  t.equal(await h.worker.runOnce(), 1)
  const patchJob = (await h.jobs()).find((j) => j.kind === 'heroku.update_config')!
  t.match(patchJob, { status: 'pending', attempts: 1, last_error: /HTTP 502/ })
  t.equal(new Date(patchJob.run_at).getTime() - h.clock.now().getTime(), 3750, 'platform backoff: 5 s step, jitter 0.5')
  h.clock.advance(3750)
  await h.worker.drain()
  t.equal(h.heroku.calls('PATCH /addons/config').length, 2)
  const action = (await h.jobs()).find((j) => j.kind === 'heroku.provision_done')!
  t.match(action, { status: 'dead', attempts: 1, last_error: /HTTP 422 invalid_params: add-on is not provisioning/ })
  const account = await h.account()
  t.equal(account.status, 'pending')
  t.match(account.metadata, { provisioning_state: 'stalled', provisioning_error: /HTTP 422/ })
  t.ok(h.logs.some((l) => l.includes('Heroku asynchronous provisioning stalled')))

  const retried = await complete(h, id, { config: {} })
  t.equal(retried.statusCode, 202, 'the vendor may complete a stalled provision again')
  await h.worker.drain()
  t.equal((await h.account()).status, 'active')
  t.same(await h.eventTypes(), ['account.pending', 'account.provisioned'])
})

t.test('two concurrent completions queue one push', async (t) => {
  const h = await platform(t, asyncEnv)
  await h.provision()
  const { id } = await h.account()
  const answers = await Promise.all([complete(h, id, { config: {} }), complete(h, id, { config: {} })])
  t.same(answers.map((a) => a.statusCode).sort(), [202, 409])
  t.equal((await h.jobs()).filter((j) => j.kind === 'heroku.update_config').length, 1)
})

t.test('an asynchronous provision still pending after 11 hours is flagged in /v1 and the metrics', async (t) => {
  const h = await platform(t, asyncEnv)
  await h.provision()
  const { id } = await h.account()
  const gauge = async () => /marketgate_heroku_provisioning_overdue (\d+)/.exec((await h.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1]
  t.equal(await gauge(), '0')
  h.clock.advance(11 * 3600_000 - 1)
  t.match((await h.app.inject({ method: 'GET', url: `/v1/accounts/${id}`, headers: h.auth })).json(), { provisioning_overdue: false })
  h.clock.advance(1)
  const listed = await h.app.inject({ method: 'GET', url: '/v1/accounts?status=pending&marketplace=heroku', headers: h.auth })
  t.match(listed.json().data[0], { id, provisioning_overdue: true, provisioning_deadline_at: '2026-11-27T22:00:00.000Z' })
  t.equal(await gauge(), '1')
})

t.test('asynchronous provisioning needs the OAuth client secret', async (t) => {
  t.throws(() => loadConfig({ ...herokuEnv, HEROKU_PROVISIONING: 'async' }), /HEROKU_OAUTH_CLIENT_SECRET: required for asynchronous provisioning/)
  t.throws(() => loadConfig({ ...herokuEnv, HEROKU_ASYNC_PLANS: 'big' }), /HEROKU_OAUTH_CLIENT_SECRET/)
  t.equal(loadConfig({ ...herokuEnv }).heroku?.credentialGraceSeconds, 7200)
})
