import t from 'tap'
import { build } from '../../helpers/build.js'
import { addEndpoint, allRows, basicAuth, herokuEnv, herokuHeaders, kensaBody, resourceUuid, v3Body } from '../../helpers/heroku.js'

const provision = (app: Awaited<ReturnType<typeof build>>['app'], payload: unknown, headers: Record<string, string> = herokuHeaders) =>
  app.inject({ method: 'POST', url: '/heroku/resources', headers, payload: payload as Record<string, unknown> })

t.test('a v3 provision answers id, config and message, and writes account, event, outbox and a sealed key', async (t) => {
  const { app, services } = await build(t, herokuEnv)
  const endpointId = await addEndpoint(services)
  const res = await provision(app, v3Body())
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['config', 'id', 'message'])
  t.equal(body.id, resourceUuid)
  t.same(Object.keys(body.config), ['ACME_DB_URL', 'ACME_DB_API_KEY'])
  t.equal(body.config.ACME_DB_URL, 'http://gateway.test')
  t.match(body.config.ACME_DB_API_KEY, /^mgk_[A-Za-z0-9_-]{43}$/)
  t.type(body.message, 'string')

  const rows = await allRows(services)
  t.equal(rows.accounts.length, 1)
  const account = rows.accounts[0]!
  t.match(account, { marketplace: 'heroku', external_id: resourceUuid, plan: 'basic', status: 'active' })
  t.same(account.metadata, {
    name: 'acme-inc-primary-database', region: 'amazon-web-services::us-east-1',
    callback_url: `https://api.heroku.com/addons/${resourceUuid}`, options: { foo: 'bar' }
  }, 'marketplace facts, and no grant code or drain token')
  t.same(rows.events.map((e) => [e.type, e.account_id]), [['account.provisioned', account.id]])
  t.same(rows.deliveries.map((d) => [d.event_id, d.endpoint_id]), [[rows.events[0]!.id, endpointId]])
  t.equal(rows.credentials.length, 1)
  const credential = rows.credentials[0]!
  t.equal(credential.account_id, account.id)
  t.equal(credential.kind, 'api_key')
  t.equal(credential.expires_at, null)
  t.notMatch(credential.secret_encrypted, body.config.ACME_DB_API_KEY, 'the key is not stored in clear')
  t.equal(services.secrets.open(credential.secret_encrypted), body.config.ACME_DB_API_KEY)
  t.equal(credential.secret_digest, services.secrets.digest(body.config.ACME_DB_API_KEY))
})

t.test('each account gets its own fresh key', async (t) => {
  const { app } = await build(t, herokuEnv)
  const a = (await provision(app, v3Body())).json()
  const b = (await provision(app, v3Body({ uuid: '11111111-89ab-cdef-0123-456789abcdef' }))).json()
  t.not(a.config.ACME_DB_API_KEY, b.config.ACME_DB_API_KEY)
})

t.test('a repeated provision returns the same body and creates nothing', async (t) => {
  const { app, services } = await build(t, herokuEnv)
  await addEndpoint(services)
  const first = await provision(app, v3Body())
  const before = await allRows(services)
  const again = await provision(app, v3Body())
  t.equal(again.statusCode, 200)
  t.equal(again.body, first.body)
  t.same(await allRows(services), before)
})

t.test('twenty concurrent provisions of one uuid create one account and all get the same answer', async (t) => {
  const { app, services } = await build(t, herokuEnv)
  await addEndpoint(services)
  const answers = await Promise.all(Array.from({ length: 20 }, () => provision(app, v3Body())))
  t.same(new Set(answers.map((a) => a.statusCode)), new Set([200]))
  t.equal(new Set(answers.map((a) => a.body)).size, 1)
  const rows = await allRows(services)
  t.equal(rows.accounts.length, 1)
  t.equal(rows.events.length, 1)
  t.equal(rows.deliveries.length, 1)
  t.equal(rows.credentials.length, 1)
})

t.test('a deprovisioned uuid gets 410 and is not re-created', async (t) => {
  const { app, services } = await build(t, herokuEnv)
  await provision(app, v3Body())
  t.equal((await app.inject({ method: 'DELETE', url: `/heroku/resources/${resourceUuid}`, headers: herokuHeaders })).statusCode, 204)
  const before = await allRows(services)
  const res = await provision(app, v3Body())
  t.equal(res.statusCode, 410)
  t.type(res.json().message, 'string')
  t.same(await allRows(services), before)
})

t.test('the v1 (kensa) body provisions too, keeping heroku_id', async (t) => {
  const { app, services } = await build(t, herokuEnv)
  const res = await provision(app, kensaBody(), { ...basicAuth(), accept: 'application/json' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().id, resourceUuid)
  const [account] = (await allRows(services)).accounts
  t.match(account, { plan: 'test', status: 'active', metadata: { heroku_id: 'app1234@kensa.heroku.com' } })
})

t.test('both JSON media types are accepted, and Heroku\'s Accept header never gets a 406', async (t) => {
  const { app, services } = await build(t, herokuEnv)
  const uuids = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003']
  const contentTypes = ['application/json', 'application/vnd.heroku-addons+json', 'application/vnd.heroku-addons+json; version=3']
  for (const [i, contentType] of contentTypes.entries()) {
    const res = await app.inject({
      method: 'POST', url: '/heroku/resources', payload: JSON.stringify(v3Body({ uuid: uuids[i] })),
      headers: { ...herokuHeaders, 'content-type': contentType }
    })
    t.equal(res.statusCode, 200, contentType)
  }
  const put = await app.inject({ method: 'PUT', url: `/heroku/resources/${uuids[0]}`, headers: { ...herokuHeaders, 'content-type': 'application/vnd.heroku-addons+json' }, payload: '{"plan":"pro"}' })
  t.equal(put.statusCode, 200)
  const del = await app.inject({ method: 'DELETE', url: `/heroku/resources/${uuids[1]}`, headers: { ...herokuHeaders, 'content-type': 'application/json', 'content-length': '0' } })
  t.equal(del.statusCode, 204, 'a DELETE with a JSON content type and no body')
  t.equal((await allRows(services)).accounts.length, 3)
})

t.test('unknown fields are ignored', async (t) => {
  const { app } = await build(t, herokuEnv)
  const res = await provision(app, v3Body({ some_new_field: { nested: true }, another: 1 }))
  t.equal(res.statusCode, 200)
})

t.test('plans and regions outside the allow-lists get 422 and nothing is written', async (t) => {
  const { app, services } = await build(t, { ...herokuEnv, HEROKU_PLANS: 'basic,pro', HEROKU_REGIONS: 'us' })
  for (const body of [v3Body({ plan: 'enterprise' }), v3Body({ region: 'amazon-web-services::eu-west-1' }), v3Body({ region: undefined })]) {
    const res = await provision(app, body)
    t.equal(res.statusCode, 422)
    t.type(res.json().message, 'string')
  }
  t.same(await allRows(services), { accounts: [], events: [], deliveries: [], credentials: [] })
  t.equal((await provision(app, v3Body({ plan: 'pro' }))).statusCode, 200, 'an allowed plan and region pass')
})

t.test('bad input is a 4xx with a message and writes nothing', async (t) => {
  const { app, services } = await build(t, { ...herokuEnv, MARKETGATE_LOG_LEVEL: 'silent' })
  const json = { ...herokuHeaders, 'content-type': 'application/json' }
  const cases: Array<[string, string, Record<string, string>, number]> = [
    ['malformed JSON', '{"uuid": ', json, 400],
    ['empty body', '', json, 400],
    ['missing uuid', JSON.stringify(v3Body({ uuid: undefined })), json, 400],
    ['missing plan', JSON.stringify(v3Body({ plan: undefined })), json, 400],
    ['plan is a number', JSON.stringify(v3Body({ plan: 5 })), json, 400],
    ['uuid is a number', JSON.stringify(v3Body({ uuid: 12345 })), json, 400],
    ['options is a string', JSON.stringify(v3Body({ options: 'x' })), json, 400],
    ['uuid is not a uuid', JSON.stringify(v3Body({ uuid: 'not-a-uuid' })), json, 400],
    ['body is an array', '[]', json, 400],
    ['text body', 'plan=basic', { ...herokuHeaders, 'content-type': 'text/plain' }, 415],
    ['over 1 MB', JSON.stringify(v3Body({ padding: 'x'.repeat(1024 * 1024) })), json, 413]
  ]
  for (const [name, payload, headers, status] of cases) {
    const res = await app.inject({ method: 'POST', url: '/heroku/resources', headers, payload })
    t.equal(res.statusCode, status, name)
    t.type(res.json().message, 'string', name)
  }
  const put = await app.inject({ method: 'PUT', url: `/heroku/resources/${resourceUuid}`, headers: json, payload: '{"plan": 7}' })
  t.equal(put.statusCode, 400)
  t.same(await allRows(services), { accounts: [], events: [], deliveries: [], credentials: [] })
})
