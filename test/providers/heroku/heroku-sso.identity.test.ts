import t from 'tap'
import { resourceToken, ssoLinkId, userScopedResourceToken, verifySignIn } from '../../../providers/heroku/heroku.sso.js'
import { build, type Built } from '../../helpers/build.js'
import { addEndpoint, allRows, herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../helpers/heroku.js'

// Only what a token signs is believed: the sha1 token signs resource id and timestamp, the
// user-scoped token adds user id and email. Everything else in the form is anyone's to write.
const salt = herokuEnv.HEROKU_SSO_SALT
const userId = '11111111-2222-3333-4444-555555555555'
const email = 'user@example.com'

async function provisioned (t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}): Promise<Built> {
  const built = await build(t, { ...herokuEnv, ...env })
  await addEndpoint(built.services)
  await built.app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body() })
  return built
}

const nowSeconds = (b: Built) => String(Math.floor(b.clock.now().getTime() / 1000))
const postForm = (b: Built, form: Record<string, string>) => b.app.inject({
  method: 'POST', url: '/heroku/sso/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString()
})

function v3Form (timestamp: string): Record<string, string> {
  const sha1 = resourceToken(resourceUuid, salt, timestamp)
  return {
    resource_id: resourceUuid, resource_token: sha1, id: resourceUuid, token: sha1,
    user_scoped_resource_token: userScopedResourceToken(resourceUuid, salt, timestamp, userId, email),
    timestamp, email, user_id: userId, app: 'my-app'
  }
}

const logins = async (b: Built) => (await allRows(b.services)).events.filter((e) => e.type === 'account.login').map((e) => e.data as { user: unknown })

t.test('a used link replayed with another email, with or without the user-scoped token, is refused', async (t) => {
  const b = await provisioned(t)
  const form = v3Form(nowSeconds(b))
  t.equal((await postForm(b, form)).statusCode, 303)
  const { user_scoped_resource_token: _dropped, ...withoutUserScoped } = form
  const variants: Array<[string, Record<string, string>]> = [
    ['another email under the user-scoped token', { ...form, email: 'attacker@example.com' }],
    ['user-scoped token removed, email changed', { ...withoutUserScoped, email: 'attacker@example.com' }],
    ['user-scoped token removed, user id changed', { ...withoutUserScoped, user_id: '99999999-2222-3333-4444-555555555555' }],
    ['user-scoped token removed, identity removed', { resource_id: resourceUuid, resource_token: form.resource_token!, timestamp: form.timestamp! }],
    ['another app', { ...form, app: 'other-app' }]
  ]
  for (const [name, variant] of variants) {
    const res = await postForm(b, variant)
    t.equal(res.statusCode, 403, name)
    t.notOk(res.headers['set-cookie'], `${name}: no session`)
  }
  t.same(await logins(b), [{ user: { email, id: userId }, app: 'my-app', source: 'heroku' }], 'one login, the signed identity')
})

t.test('a legacy link (sha1 token only) signs in with no identity: the form\'s email and user id are not believed', async (t) => {
  const b = await provisioned(t, { MARKETGATE_LOGIN_URL: 'https://app.vendor.example/welcome' })
  const timestamp = nowSeconds(b)
  const form = { id: resourceUuid, token: resourceToken(resourceUuid, salt, timestamp), timestamp, email: 'ceo@victim.example', user_id: userId, app: 'my-app' }
  const res = await postForm(b, form)
  t.equal(res.statusCode, 303)
  t.same(await logins(b), [{ user: { email: null, id: null }, app: 'my-app', source: 'heroku' }], 'the webhook carries no unverified identity')
  const ticket = new URL(res.headers.location as string).searchParams.get('ticket')!
  const redeemed = await b.app.inject({ method: 'POST', url: '/v1/login-tickets/redeem', headers: b.auth, payload: { ticket } })
  t.match(redeemed.json(), { user: { email: null, id: null, source: 'heroku' } })

  // The same link with another email is the same link.
  const replay = await postForm(b, { ...form, email: 'someone@else.example' })
  t.equal(replay.statusCode, 403)
  t.match(replay.body, /already used/)
  t.equal((await logins(b)).length, 1)
})

t.test('the legacy GET does not believe its email either', async (t) => {
  const b = await provisioned(t)
  const timestamp = nowSeconds(b)
  const query = new URLSearchParams({ token: resourceToken(resourceUuid, salt, timestamp), timestamp, email: 'ceo@victim.example', user_id: userId }).toString()
  t.equal((await b.app.inject({ method: 'GET', url: `/heroku/resources/${resourceUuid}?${query}` })).statusCode, 302)
  t.match(await logins(b), [{ user: { email: null, id: null } }])
})

t.test('verifySignIn returns only the signed identity; the link id is made of signed fields only', async (t) => {
  const ts = '1700000000'
  const now = new Date(1700000000 * 1000)
  const sha1 = resourceToken(resourceUuid, salt, ts)
  const scoped = userScopedResourceToken(resourceUuid, salt, ts, userId, email)
  t.match(verifySignIn({ resourceId: resourceUuid, timestamp: ts, tokens: [sha1], userId, email }, salt, now),
    { ok: true, identity: { userId: null, email: null } })
  t.match(verifySignIn({ resourceId: resourceUuid, timestamp: ts, tokens: [], userScopedToken: scoped, userId, email }, salt, now),
    { ok: true, identity: { userId, email } })
  t.match(verifySignIn({ resourceId: resourceUuid, timestamp: ts, tokens: [], userScopedToken: scoped, userId, email: 'x@y.z' }, salt, now), { ok: false })
  t.equal(ssoLinkId({ resourceId: resourceUuid, timestamp: ts }), ssoLinkId({ resourceId: resourceUuid, timestamp: ts, email: 'other', userId: 'u' } as never))
  t.not(ssoLinkId({ resourceId: resourceUuid, timestamp: ts }), ssoLinkId({ resourceId: resourceUuid, timestamp: '1700000001' }))
})
