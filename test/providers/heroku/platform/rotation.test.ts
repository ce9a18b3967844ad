import t from 'tap'
import { v3Body } from '../../../helpers/heroku.js'
import { platform, type PlatformHarness } from './helpers.js'

const verify = (h: PlatformHarness, key: string) =>
  h.app.inject({ method: 'POST', url: '/v1/api-keys/verify', headers: h.auth, payload: { api_key: key } })
const rotate = (h: PlatformHarness, id: string) =>
  h.app.inject({ method: 'POST', url: `/v1/accounts/${id}/rotate-credentials`, headers: h.auth })

t.test('rotation mints a new key, pushes it with PATCH config, records account.credentials_rotated; the old key works for 2 h', async (t) => {
  const h = await platform(t)
  const oldKey = (await h.provision()).json().config.ACME_DB_API_KEY as string
  await h.worker.drain()
  const { id } = await h.account()
  t.match((await verify(h, oldKey)).json(), { account: { id, marketplace: 'heroku' }, key: { current: true, expires_at: null } })

  const res = await rotate(h, id)
  t.equal(res.statusCode, 200)
  t.equal(res.json().previous_key_valid_until, '2026-11-27T12:00:00.000Z')
  t.notOk(res.body.includes('mgk_'), 'the new key is not echoed: it goes to Heroku, and /verify tells who holds it')
  t.same(await h.eventTypes(), ['account.provisioned', 'account.credentials_rotated'])

  t.equal(await h.worker.runOnce(), 1)
  const [patch] = h.heroku.calls('PATCH /addons/config')
  t.equal(patch!.headers.accept, 'application/vnd.heroku+json; version=3')
  t.match(patch!.headers.authorization, /^Bearer hk-access-/)
  const pushed = (patch!.json as { config: Array<{ name: string, value: string }> }).config
  t.same(pushed.map((v) => v.name), ['ACME_DB_API_KEY'], 'only the key changes')
  const newKey = pushed[0]!.value
  t.match(newKey, /^mgk_[A-Za-z0-9_-]{43}$/)
  t.not(newKey, oldKey)
  t.equal(h.heroku.config.get(patch!.path.split('/')[2]!)?.ACME_DB_API_KEY, newKey)

  t.match((await verify(h, newKey)).json(), { account: { id }, key: { current: true } })
  t.match((await verify(h, oldKey)).json(), { account: { id }, key: { current: false, expires_at: '2026-11-27T12:00:00.000Z' } })
  h.clock.advance(2 * 3600_000 - 1)
  t.equal((await verify(h, oldKey)).statusCode, 200, 'still inside the grace period')
  h.clock.advance(1)
  const expired = await verify(h, oldKey)
  t.equal(expired.statusCode, 404)
  t.same(expired.json(), { error: { code: 'NOT_FOUND', message: 'unknown or expired API key' } })
  t.equal((await verify(h, newKey)).statusCode, 200)
})

t.test('HEROKU_CREDENTIAL_GRACE_SECONDS sets the grace, and a second rotation keeps the first old key\'s own deadline', async (t) => {
  const h = await platform(t, { HEROKU_CREDENTIAL_GRACE_SECONDS: '60' })
  const first = (await h.provision()).json().config.ACME_DB_API_KEY as string
  await h.worker.drain()
  const { id } = await h.account()
  t.equal((await rotate(h, id)).json().previous_key_valid_until, '2026-11-27T10:01:00.000Z')
  h.clock.advance(30_000)
  await rotate(h, id)
  await h.worker.drain()
  const pushes = h.heroku.calls('PATCH /addons/config').map((c) => (c.json as { config: Array<{ value: string }> }).config[0]!.value)
  t.equal(pushes.length, 2)
  t.equal(pushes[0], pushes[1], 'both pushes send the newest key (read when the job runs)')
  h.clock.advance(30_000)
  t.equal((await verify(h, first)).statusCode, 404, 'the first key ended 60 s after the first rotation')
  t.equal((await verify(h, pushes[1]!)).statusCode, 200)
})

t.test('rotation is refused where no new key could reach the apps, and for accounts that are gone', async (t) => {
  const h = await platform(t)
  await h.provision(v3Body({ oauth_grant: null }))
  const { id } = await h.account()
  const noToken = await rotate(h, id)
  t.equal(noToken.statusCode, 409)
  t.match(noToken.json().error.message, /no Heroku OAuth token/)
  t.same(await h.eventTypes(), ['account.provisioned'], 'nothing recorded')
  t.equal((await h.services.db.selectFrom('account_credentials').selectAll().execute()).length, 1, 'no key minted')

  const uuid = '44444444-89ab-cdef-0123-456789abcdef'
  h.heroku.grants.set('grant-2', uuid)
  await h.provision(v3Body({ uuid, oauth_grant: { code: 'grant-2' } }))
  await h.worker.drain()
  const other = await h.services.db.selectFrom('accounts').select('id').where('external_id', '=', uuid).executeTakeFirstOrThrow()
  await h.app.inject({ method: 'DELETE', url: `/heroku/resources/${uuid}`, headers: { authorization: `Basic ${Buffer.from('acme-db:pw-5f0c2e7a9b1d4c3e8f6a').toString('base64')}` } })
  t.equal((await rotate(h, other.id)).statusCode, 410)
  t.equal((await rotate(h, '00000000-0000-4000-8000-000000000000')).statusCode, 404)
  t.equal((await h.app.inject({ method: 'POST', url: `/v1/accounts/${id}/rotate-credentials` })).statusCode, 401)
})

t.test('the key check answers 404 for unknown keys and needs the admin token', async (t) => {
  const h = await platform(t)
  t.equal((await verify(h, 'mgk_not-a-key')).statusCode, 404)
  t.equal((await h.app.inject({ method: 'POST', url: '/v1/api-keys/verify', payload: { api_key: 'x' } })).statusCode, 401)
  t.equal((await h.app.inject({ method: 'POST', url: '/v1/api-keys/verify', headers: h.auth, payload: {} })).statusCode, 400)
})
