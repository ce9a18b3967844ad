import t, { type Test } from 'tap'
import { allRows, herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../helpers/heroku.js'
import { buildAws, eventsSecret } from '../../providers/aws/helpers.js'

// One app for the file (Heroku and AWS on): every request below must be refused before it writes.
const built = await buildAws(t, { ...herokuEnv })
const { app, auth } = built

/** `{"a":{"a":…"leaf"…}}` as text: JSON.stringify itself recurses and overflows near 5000 levels. */
const nestJson = (levels: number) => '{"a":'.repeat(levels) + '"leaf"' + '}'.repeat(levels)

async function nothingWritten (t: Test) {
  const rows = await allRows(built.services)
  t.same([rows.accounts.length, rows.events.length, rows.deliveries.length], [0, 0, 0], 'nothing written')
  const endpoints = await built.services.db.selectFrom('webhook_endpoints').select('id').execute()
  t.equal(endpoints.length, 0, 'no endpoint created')
}

t.test('/v1: JSON body, query string and path parameter', async (t) => {
  const cases = [
    { method: 'POST' as const, url: '/v1/webhook-endpoints', payload: { url: 'https://vendor.test/h', description: 'a\u0000b' }, field: 'body.description must not contain NUL' },
    { method: 'POST' as const, url: '/v1/webhook-endpoints', payload: { url: 'https://vendor.test/h', description: 'x\ud800' }, field: 'body.description must not contain a lone UTF-16 surrogate' },
    { method: 'GET' as const, url: '/v1/accounts?external_id=%00', field: 'query.external_id must not contain NUL' },
    { method: 'GET' as const, url: '/v1/accounts/%00', field: 'params.id must not contain NUL' },
  ]
  for (const c of cases) {
    const res = await app.inject({ method: c.method, url: c.url, headers: auth, payload: c.payload })
    t.equal(res.statusCode, 400, c.url)
    t.equal(res.json().error.code, 'VALIDATION_FAILED')
    t.match(res.json().error.message, c.field)
  }
  await nothingWritten(t)
})

t.test('Heroku Partner API: its { message } shape, after the password check', async (t) => {
  const nul = await app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body({ name: 'db\u0000' }) })
  t.equal(nul.statusCode, 400)
  t.same(nul.json(), { message: 'body.name must not contain NUL (\\u0000)' })

  const deep = await app.inject({ method: 'POST', url: '/heroku/resources', headers: { ...herokuHeaders, 'content-type': 'application/json' }, payload: JSON.stringify(v3Body({ options: '@' })).replace('"@"', nestJson(3000)) })
  t.equal(deep.statusCode, 400)
  t.match(deep.json().message, /^body\.options(\.a)+ nests deeper than 64 levels$/)

  const surrogate = await app.inject({ method: 'PUT', url: `/heroku/resources/${resourceUuid}`, headers: herokuHeaders, payload: { plan: '\udc00' } })
  t.equal(surrogate.statusCode, 400)
  t.same(surrogate.json(), { message: 'body.plan must not contain a lone UTF-16 surrogate' })

  const wrongPassword = await app.inject({ method: 'POST', url: '/heroku/resources', headers: { authorization: 'Basic eDp5' }, payload: v3Body({ name: 'db\u0000' }) })
  t.equal(wrongPassword.statusCode, 401, 'credentials are checked before anything else')
  await nothingWritten(t)
})

t.test('Heroku SSO form body: a 400 page naming the field', async (t) => {
  const form = `id=${resourceUuid}&resource_id=${resourceUuid}&timestamp=1700000000&token=ab%00cd`
  const res = await app.inject({ method: 'POST', url: '/heroku/sso/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form })
  t.equal(res.statusCode, 400)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, 'body.token must not contain NUL')
  await nothingWritten(t)
})

t.test('/aws/events: every field, and EventBridge-deep nesting', async (t) => {
  const post = (payload: unknown) => app.inject({
    method: 'POST', url: '/aws/events', headers: { 'x-marketgate-events-secret': eventsSecret, 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload)
  })
  const nul = await post({ 'detail-type': 'Purchase Agreement Created - Manufacturer', source: 'aws.agreement-marketplace', detail: { agreement: { id: 'agmt-\u0000' } } })
  t.equal(nul.statusCode, 400)
  t.same(nul.json(), { error: { code: 'VALIDATION_FAILED', message: 'body.detail.agreement.id must not contain NUL (\\u0000)' } })
  const deep = await post(`{"detail-type":"x","detail":${nestJson(5000)}}`)
  t.equal(deep.statusCode, 400)
  t.match(deep.json().error.message, /^body\.detail(\.a)+ nests deeper than 64 levels$/)
  const key = await post({ detail: { ['\ud800']: 1 } })
  t.equal(key.statusCode, 400)
  t.equal(key.json().error.message, 'body.detail has a key that must not contain a lone UTF-16 surrogate')
  await nothingWritten(t)
})

t.test('well-formed input with surrogate pairs still provisions', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body({ name: 'db 😀', options: { emoji: '🚀' } }) })
  t.equal(res.statusCode, 200)
  t.equal((await allRows(built.services)).accounts.length, 1)
})
