import t from 'tap'
import { resourceToken, userScopedResourceToken } from '../../../providers/heroku/heroku.sso.js'
import { build, type Built } from '../../helpers/build.js'
import { addEndpoint, allRows, herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../helpers/heroku.js'

const salt = herokuEnv.HEROKU_SSO_SALT
const userId = '11111111-2222-3333-4444-555555555555'
const email = 'user@example.com'
// base64url JSON, as Heroku sends it.
const navData = Buffer.from(JSON.stringify({ addon: 'Acme DB', appname: 'my-app', addons: [{ slug: 'acme-db', name: 'Acme DB', current: true }] })).toString('base64url')

type Teardown = { teardown(fn: () => unknown): void }

async function provisioned (t: Teardown, env: Record<string, string> = {}): Promise<Built> {
  const built = await build(t, { ...herokuEnv, ...env })
  await addEndpoint(built.services)
  await built.app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body() })
  return built
}

const nowSeconds = (b: Built) => String(Math.floor(b.clock.now().getTime() / 1000))

/** The form Heroku's dashboard POSTs (v3 fields plus the v1 ones it still sends). */
function v3Form (b: Built, overrides: Record<string, string> = {}) {
  const timestamp = overrides.timestamp ?? nowSeconds(b)
  const sha1 = resourceToken(resourceUuid, salt, timestamp)
  return new URLSearchParams({
    id: resourceUuid, token: sha1, resource_id: resourceUuid, resource_token: sha1,
    user_scoped_resource_token: userScopedResourceToken(resourceUuid, salt, timestamp, userId, email),
    timestamp, email, user_id: userId, app: 'my-app', context_app: 'my-app', 'nav-data': navData, ...overrides
  }).toString()
}

const postForm = (b: Built, form: string) => b.app.inject({
  method: 'POST', url: '/heroku/sso/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form
})

function cookie (res: { cookies: Array<{ name: string }> }, name: string) {
  return res.cookies.find((c) => c.name === name) as undefined | { name: string, value: string, path?: string, httpOnly?: boolean, sameSite?: string, secure?: boolean }
}

t.test('a v3 form POST signs in: account.login recorded, cookies set, 303 to the handoff location', async (t) => {
  const b = await provisioned(t)
  const res = await postForm(b, v3Form(b))
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, 'http://gateway.test/session', 'the gateway\'s own signed-in page')
  t.equal(res.headers['cache-control'], 'no-store')

  const nav = cookie(res, 'heroku-nav-data')!
  t.equal(nav.value, navData, 'the posted value exactly')
  t.match(nav, { path: '/', httpOnly: true, sameSite: 'Lax' })
  t.notOk(nav.secure, 'not Secure behind an http public URL')
  const raw = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
  t.ok(raw.includes(`heroku-nav-data=${navData}; Path=/; HttpOnly; SameSite=Lax`), 'the raw header carries the value unencoded')
  const session = res.cookies.filter((c) => c.name !== 'heroku-nav-data')
  t.ok(session.length >= 1, 'the handoff\'s session cookie is set')

  const rows = await allRows(b.services)
  t.same(rows.events.map((e) => e.type), ['account.provisioned', 'account.login'])
  t.match(rows.events[1]!.data, { user: { email, id: userId }, app: 'my-app', source: 'heroku' })
  t.equal(rows.deliveries.length, 2, 'the login is in the outbox too')
})

t.test('a v1 form (id, token) and the legacy GET sign in too', async (t) => {
  const b = await provisioned(t)
  const timestamp = nowSeconds(b)
  const token = resourceToken(resourceUuid, salt, timestamp)
  const v1 = new URLSearchParams({ id: resourceUuid, token, timestamp, email, app: 'my-app', 'nav-data': navData }).toString()
  const post = await postForm(b, v1)
  t.equal(post.statusCode, 303)

  b.clock.advance(1000) // another click: Heroku signs a new timestamp
  const later = nowSeconds(b)
  const query = new URLSearchParams({ token: resourceToken(resourceUuid, salt, later), timestamp: later, 'nav-data': navData, email, app: 'legacy-app' }).toString()
  const get = await b.app.inject({ method: 'GET', url: `/heroku/resources/${resourceUuid}?${query}` })
  t.equal(get.statusCode, 302)
  t.equal(get.headers.location, 'http://gateway.test/session')
  t.equal(cookie(get, 'heroku-nav-data')!.value, navData)
  const events = (await allRows(b.services)).events.filter((e) => e.type === 'account.login')
  t.same(events.map((e) => (e.data as { app: string }).app), ['my-app', 'legacy-app'])
})

t.test('a sign-in link works once: a replay within its 5 minutes is a 403 and records nothing', async (t) => {
  const b = await provisioned(t)
  const form = v3Form(b)
  t.equal((await postForm(b, form)).statusCode, 303)
  b.clock.advance(60_000)
  const replay = await postForm(b, form)
  t.equal(replay.statusCode, 403)
  t.match(replay.body, /already used/)
  t.equal(replay.headers['set-cookie'], undefined, 'no session for the replay')
  const timestamp = nowSeconds(b)
  const legacy = await b.app.inject({ method: 'GET', url: `/heroku/resources/${resourceUuid}?${new URLSearchParams({ token: resourceToken(resourceUuid, salt, timestamp), timestamp }).toString()}` })
  t.equal(legacy.statusCode, 302, 'a fresh link still signs in')
  const replayedGet = await b.app.inject({ method: 'GET', url: `/heroku/resources/${resourceUuid}?${new URLSearchParams({ token: resourceToken(resourceUuid, salt, timestamp), timestamp }).toString()}` })
  t.equal(replayedGet.statusCode, 403)
  t.equal((await allRows(b.services)).events.filter((e) => e.type === 'account.login').length, 2)
})

t.test('with MARKETGATE_LOGIN_URL the browser goes to the vendor with a ticket that redeems once', async (t) => {
  const b = await provisioned(t, { MARKETGATE_LOGIN_URL: 'https://app.vendor.example/heroku/welcome' })
  const res = await postForm(b, v3Form(b))
  t.equal(res.statusCode, 303)
  t.match(res.headers.location, /^https:\/\/app\.vendor\.example\/heroku\/welcome\?ticket=[^&]+$/)
  const ticket = new URL(res.headers.location as string).searchParams.get('ticket')!
  const redeemed = await b.app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: b.auth, payload: { ticket } })
  t.equal(redeemed.statusCode, 200)
  t.match(redeemed.json(), {
    account: { marketplace: 'heroku', external_id: resourceUuid, status: 'active' },
    user: { email, id: userId, app: 'my-app', source: 'heroku' }
  })
  const again = await b.app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: b.auth, payload: { ticket } })
  t.equal(again.statusCode, 410)
})

t.test('without a login URL the session cookie opens the signed-in page with Heroku\'s navigation for the app', async (t) => {
  const b = await provisioned(t)
  const res = await postForm(b, v3Form(b, { app: 'shiny-app-42' }))
  t.equal(res.statusCode, 303)
  const cookieHeader = (res.cookies as Array<{ name: string, value: string }>).map((c) => `${c.name}=${c.value}`).join('; ')
  const page = await b.app.inject({ method: 'GET', url: new URL(res.headers.location as string).pathname, headers: { cookie: cookieHeader } })
  t.equal(page.statusCode, 200)
  t.match(page.body, resourceUuid)
  t.match(page.body, 'shiny-app-42')
  t.match(page.body, /boomerang\.js/)
  t.match(page.body, /Boomerang\.init\(\{"app":"shiny-app-42","addon":"acme-db"\}\)/)
})

t.test('cookies are Secure when the public URL is https', async (t) => {
  const b = await provisioned(t, { MARKETGATE_PUBLIC_URL: 'https://gw.example.com' })
  const res = await postForm(b, v3Form(b))
  t.equal(res.statusCode, 303)
  t.equal(cookie(res, 'heroku-nav-data')!.secure, true)
  for (const c of res.cookies as Array<{ secure?: boolean }>) t.equal(c.secure, true)
})

t.test('bad tokens, stale or future timestamps, unknown or cancelled accounts: 403 HTML, nothing recorded', async (t) => {
  const b = await provisioned(t)
  const ts = Number(nowSeconds(b))
  const otherUuid = 'aaaaaaaa-0000-4000-8000-000000000099'
  const cases: Array<[string, string]> = [
    ['wrong sha1 token', new URLSearchParams({ id: resourceUuid, token: 'f'.repeat(40), timestamp: String(ts) }).toString()],
    ['tampered email under a user-scoped token', v3Form(b, { email: 'attacker@example.com' })],
    ['six minutes old', v3Form(b, { timestamp: String(ts - 301) })],
    ['two minutes ahead', v3Form(b, { timestamp: String(ts + 61) })],
    ['no token at all', new URLSearchParams({ id: resourceUuid, timestamp: String(ts) }).toString()],
    ['unknown account, valid token', new URLSearchParams({ id: otherUuid, token: resourceToken(otherUuid, salt, String(ts)), timestamp: String(ts) }).toString()]
  ]
  for (const [name, form] of cases) {
    const res = await postForm(b, form)
    t.equal(res.statusCode, 403, name)
    t.match(res.headers['content-type'], /^text\/html/, name)
    t.match(res.body, /<h1>Sign-in refused<\/h1>/, name)
    t.notOk(res.headers['set-cookie'], `${name}: no cookie`)
  }
  const staleGet = await b.app.inject({ method: 'GET', url: `/heroku/resources/${resourceUuid}?token=${resourceToken(resourceUuid, salt, String(ts - 400))}&timestamp=${ts - 400}` })
  t.equal(staleGet.statusCode, 403)

  await b.app.inject({ method: 'DELETE', url: `/heroku/resources/${resourceUuid}`, headers: herokuHeaders })
  const cancelled = await postForm(b, v3Form(b))
  t.equal(cancelled.statusCode, 403, 'cancelled account')
  t.match(cancelled.body, /not active/)
  const events = (await allRows(b.services)).events.map((e) => e.type)
  t.same(events, ['account.provisioned', 'account.cancelled'])
})

t.test('the window edges: exactly five minutes old and one minute ahead still sign in', async (t) => {
  const b = await provisioned(t)
  const ts = Number(nowSeconds(b))
  t.equal((await postForm(b, v3Form(b, { timestamp: String(ts - 300) }))).statusCode, 303)
  t.equal((await postForm(b, v3Form(b, { timestamp: String(ts + 60) }))).statusCode, 303)
})

t.test('a malformed sign-in is a 400 page and records nothing', async (t) => {
  const b = await provisioned(t, { MARKETGATE_LOG_LEVEL: 'silent' })
  const noTimestamp = new URLSearchParams({ id: resourceUuid, token: 'x' }).toString()
  const badNav = v3Form(b, { 'nav-data': 'has space;and=semicolon' })
  for (const form of [noTimestamp, badNav]) {
    const res = await postForm(b, form)
    t.equal(res.statusCode, 400)
    t.match(res.headers['content-type'], /^text\/html/)
  }
  t.equal((await allRows(b.services)).events.length, 1)
})

t.test('without HEROKU_SSO_SALT there is no sign-in route', async (t) => {
  const b = await provisioned(t, { HEROKU_SSO_SALT: '' })
  t.equal((await postForm(b, v3Form(b))).statusCode, 404)
})
