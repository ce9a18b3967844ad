import t from 'tap'
import { build } from '../../helpers/build.js'

async function account (services: Awaited<ReturnType<typeof build>>['services'], marketplace: 'heroku' | 'aws' = 'heroku') {
  const r = await services.lifecycle.execute({ key: { product: 'default', marketplace, externalId: '01234567-89ab-cdef-0123-456789abcdef' } },
    { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  return r.account!
}

const user = { email: 'dev@example.com', userId: 'u-1', app: 'my-app', source: 'heroku' }

t.test('a ticket redeems once, within 60 seconds, for the account and the user', async (t) => {
  const { app, services, auth, clock } = await build(t, { MARKETGATE_LOGIN_URL: 'https://vendor.example/login?from=mg' })
  const acc = await account(services)
  const { location, cookies } = await services.login.begin(acc, user)
  const url = new URL(location)
  t.equal(url.origin + url.pathname, 'https://vendor.example/login')
  t.equal(url.searchParams.get('from'), 'mg')
  const ticket = url.searchParams.get('ticket')!
  t.match(ticket, /^mgt_[A-Za-z0-9_-]{43}$/)
  t.equal(cookies[0]!.name, 'marketgate_session')
  t.equal(cookies[0]!.options.secure, false)

  clock.advance(59_000)
  const res = await app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: auth, payload: { ticket } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { account: { id: acc.id, marketplace: 'heroku', status: 'active' }, user: { email: 'dev@example.com', id: 'u-1', app: 'my-app', source: 'heroku' } })

  const again = await app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: auth, payload: { ticket } })
  t.equal(again.statusCode, 410)
  t.equal(again.json().error.code, 'GONE')
})

t.test('an expired, a forged or a malformed ticket is refused', async (t) => {
  const { app, services, auth, clock } = await build(t, { MARKETGATE_LOGIN_URL: 'https://vendor.example/login' })
  const acc = await account(services)
  const ticket = new URL((await services.login.begin(acc, user)).location).searchParams.get('ticket')!
  clock.advance(60_000)
  const expired = await app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: auth, payload: { ticket } })
  t.equal(expired.statusCode, 410)
  const forged = await app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: auth, payload: { ticket: `${ticket.slice(0, -2)}xx` } })
  t.equal(forged.statusCode, 404)
  const malformed = await app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: auth, payload: { nope: 1 } })
  t.equal(malformed.statusCode, 400)
  const noAuth = await app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', payload: { ticket } })
  t.equal(noAuth.statusCode, 401)
})

t.test('only a digest of the ticket is stored', async (t) => {
  const { services } = await build(t, { MARKETGATE_LOGIN_URL: 'https://vendor.example/login' })
  const acc = await account(services)
  const ticket = new URL((await services.login.begin(acc, user)).location).searchParams.get('ticket')!
  const rows = await services.db.selectFrom('login_tickets').selectAll().execute()
  t.equal(rows.length, 1)
  t.notMatch(JSON.stringify(rows), ticket)
})

t.test("without a login URL the browser goes to the gateway's own signed-in page, which needs the session", async (t) => {
  const { app, services } = await build(t, { HEROKU_ADDON_ID: 'acme-addon', HEROKU_ADDON_PASSWORD: 'p4ssword-p4ssword' })
  const acc = await account(services)
  const { location, cookies } = await services.login.begin(acc, user)
  t.equal(location, 'http://gateway.test/session')
  const cookie = `${cookies[0]!.name}=${encodeURIComponent(cookies[0]!.value)}`
  const page = await app.inject({ method: 'GET', url: '/session', headers: { cookie } })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /01234567-89ab-cdef-0123-456789abcdef/)
  t.match(page.body, /my-app/)
  t.match(page.body, /boomerang\.js/)
  t.match(page.body, /"addon":"acme-addon"/)

  const none = await app.inject({ method: 'GET', url: '/session' })
  t.equal(none.statusCode, 401)
  // Change one character of the signature, whatever it was (a fixed replacement is a no-op 1 time in 64).
  const forged = cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A')
  const tampered = await app.inject({ method: 'GET', url: '/session', headers: { cookie: forged } })
  t.equal(tampered.statusCode, 401)
  const garbled = await app.inject({ method: 'GET', url: '/session', headers: { cookie: 'marketgate_session=%E0%A4%A' } })
  t.equal(garbled.statusCode, 401, 'a malformed cookie is no session, not a 500')
})

t.test('the session expires, and AWS sessions get no Heroku navigation', async (t) => {
  const { app, services, clock } = await build(t)
  const acc = await account(services, 'aws')
  const { cookies } = await services.login.begin(acc, { email: 'x@y.z', source: 'aws' })
  const cookie = `${cookies[0]!.name}=${encodeURIComponent(cookies[0]!.value)}`
  const page = await app.inject({ method: 'GET', url: '/session', headers: { cookie } })
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, /boomerang/)
  clock.advance(12 * 3600_000 + 1)
  t.equal((await app.inject({ method: 'GET', url: '/session', headers: { cookie } })).statusCode, 401)
})

t.test('html in names is escaped on the page', async (t) => {
  const { app, services } = await build(t)
  const acc = await account(services)
  const { cookies } = await services.login.begin(acc, { email: '<script>alert(1)</script>', app: '"><img>', source: 'heroku' })
  const page = await app.inject({ method: 'GET', url: '/session', headers: { cookie: `${cookies[0]!.name}=${encodeURIComponent(cookies[0]!.value)}` } })
  t.notMatch(page.body, /<script>alert/)
  t.notMatch(page.body, /"><img>/)
})
