import t from 'tap'
import { adminToken } from '../../helpers/build.js'
import { basicAuth, herokuEnv, resourceUuid } from '../../helpers/heroku.js'
import { buildAws, eventsSecret } from '../../providers/aws/helpers.js'

// A budget of 5 failed checks per address per minute; Heroku and AWS on; the fake clock moves the window.
const built = await buildAws(t, { ...herokuEnv, MARKETGATE_AUTH_RATE_LIMIT: '5' })
const { app, clock } = built
let n = 0
/** A fresh client address per test, so tests do not share budgets. */
const nextAddress = () => `198.51.100.${++n}`

const v1 = (remoteAddress: string, token: string) => app.inject({ url: '/v1/accounts', headers: { authorization: `Bearer ${token}` }, remoteAddress })

t.test('/v1: failed tokens count; past the budget 429 with Retry-After; the window resets', async (t) => {
  const ip = nextAddress()
  for (let i = 0; i < 5; i++) t.equal((await v1(ip, 'wrong-token-0123456789')).statusCode, 401, `failure ${i + 1}`)
  const limited = await v1(ip, 'wrong-token-0123456789')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().error.code, 'RATE_LIMITED')
  t.equal(limited.headers['retry-after'], '60')
  t.equal((await v1(ip, adminToken)).statusCode, 429, 'a blocked address is refused whatever it sends, so guessing stops')
  t.equal((await v1(nextAddress(), adminToken)).statusCode, 200, 'another address is not affected')

  clock.advance(45_000)
  t.equal((await v1(ip, 'wrong')).headers['retry-after'], '15', 'Retry-After counts down on the clock')
  clock.advance(15_000)
  t.equal((await v1(ip, adminToken)).statusCode, 200, 'a new window: allowed again')
  t.equal((await v1(ip, 'wrong')).statusCode, 401)
})

t.test('successful checks are never counted nor throttled', async (t) => {
  const ip = nextAddress()
  const statuses = new Set<number>()
  for (let i = 0; i < 40; i++) statuses.add((await v1(ip, adminToken)).statusCode)
  t.same([...statuses], [200], '40 good calls, budget 5')
  for (let i = 0; i < 4; i++) await v1(ip, 'wrong')
  t.equal((await v1(ip, adminToken)).statusCode, 200, 'four failures among many successes: still under budget')

  const heroku = new Set<number>()
  for (let i = 0; i < 20; i++) {
    heroku.add((await app.inject({ method: 'PUT', url: `/heroku/resources/${resourceUuid}`, headers: basicAuth(), payload: { plan: 'basic' }, remoteAddress: ip })).statusCode)
  }
  t.notOk(heroku.has(429) || heroku.has(401), `Heroku calls with the right password pass: ${[...heroku].join(', ')}`)
})

t.test('Heroku basic auth: 429 in Heroku\'s { message } shape', async (t) => {
  const ip = nextAddress()
  const call = (password: string) => app.inject({ method: 'POST', url: '/heroku/resources', headers: basicAuth(herokuEnv.HEROKU_ADDON_ID, password), payload: {}, remoteAddress: ip })
  for (let i = 0; i < 5; i++) t.equal((await call('wrong-password')).statusCode, 401)
  const limited = await call('wrong-password')
  t.equal(limited.statusCode, 429)
  t.match(limited.json(), { message: /too many failed credential checks/ })
  t.notOk('error' in limited.json())
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.equal((await v1(ip, adminToken)).statusCode, 200, 'budgets are per kind of credential')
})

t.test('/aws/events: wrong secrets are limited, the right one is not counted', async (t) => {
  const ip = nextAddress()
  const post = (secret: string) => app.inject({ method: 'POST', url: '/aws/events', headers: { 'x-marketgate-events-secret': secret }, payload: { version: '0', id: 'e-1', 'detail-type': 'Purchase Agreement Ending Soon', source: 'aws.agreement-marketplace', detail: {} }, remoteAddress: ip })
  for (let i = 0; i < 10; i++) t.equal((await post(eventsSecret)).statusCode, 200)
  for (let i = 0; i < 5; i++) t.equal((await post('wrong-secret-0123456789')).statusCode, 401)
  const limited = await post('wrong-secret-0123456789')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().error.code, 'RATE_LIMITED')
  t.ok(limited.headers['retry-after'])
})

t.test('Heroku SSO: refused sign-ins count; past the budget a 429 page; other addresses sign in', async (t) => {
  const ip = nextAddress()
  const form = (token: string) => new URLSearchParams({ resource_id: resourceUuid, timestamp: String(Math.floor(clock.now().getTime() / 1000)), resource_token: token }).toString()
  const post = (token: string, remoteAddress = ip) => app.inject({ method: 'POST', url: '/heroku/sso/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(token), remoteAddress })
  for (let i = 0; i < 5; i++) t.equal((await post('0'.repeat(40))).statusCode, 403, `refused ${i + 1}`)
  const limited = await post('0'.repeat(40))
  t.equal(limited.statusCode, 429)
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.match(limited.headers['content-type'], /text\/html/, 'a page, as the browser expects')
  t.equal((await post('0'.repeat(40), nextAddress())).statusCode, 403, 'another address is judged on its token, not limited')
})

t.test('the log names the scope and address, never the credential', async (t) => {
  const text = built.logs.join('')
  t.match(text, 'credential checks rate limited')
  t.notMatch(text, 'wrong-token-0123456789')
  t.notMatch(text, 'wrong-secret-0123456789')
})
