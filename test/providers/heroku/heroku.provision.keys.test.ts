import t from 'tap'
import { build, type Built } from '../../helpers/build.js'
import { addEndpoint, allRows, herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../helpers/heroku.js'

// Jobs are queued only with the add-on's OAuth client secret; no worker runs (MARKETGATE_WORKERS=off).
const grantEnv = { ...herokuEnv, HEROKU_OAUTH_CLIENT_SECRET: 'client-secret-0123456789' }
const key = { product: 'default', marketplace: 'heroku' as const, externalId: resourceUuid }

const provision = ({ app }: Built, body: Record<string, unknown> = v3Body()) =>
  app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: body })
const jobs = ({ services }: Built) => services.db.selectFrom('jobs').select(['kind', 'account_id', 'dedupe_key', 'status']).execute()

t.test('twenty concurrent provisions with a grant: one account, one key, exactly one exchange job for that account', async (t) => {
  const built = await build(t, grantEnv)
  await addEndpoint(built.services)
  const answers = await Promise.all(Array.from({ length: 20 }, () => provision(built)))
  t.same(new Set(answers.map((a) => a.statusCode)), new Set([200]))
  t.equal(new Set(answers.map((a) => a.body)).size, 1, 'every answer carries the one key')
  const rows = await allRows(built.services)
  t.equal(rows.accounts.length, 1)
  t.equal(rows.events.length, 1)
  t.equal(rows.deliveries.length, 1)
  t.equal(rows.credentials.length, 1)
  const id = rows.accounts[0]!.id
  t.same(await jobs(built), [{ kind: 'heroku.exchange_grant', account_id: id, dedupe_key: `heroku.exchange_grant:${id}`, status: 'pending' }])
  t.equal(built.services.secrets.open(rows.credentials[0]!.secret_encrypted), answers[0]!.json().config.ACME_DB_API_KEY)
})

t.test('without a grant code no job is queued; the key is still written with the account', async (t) => {
  const built = await build(t, grantEnv)
  const res = await provision(built, v3Body({ oauth_grant: undefined }))
  t.equal(res.statusCode, 200)
  t.same(await jobs(built), [])
  t.equal((await allRows(built.services)).credentials.length, 1)
})

t.test('an active account that has no key (made by another path) gets one on its next provision, and keeps it', async (t) => {
  const built = await build(t, grantEnv)
  await built.services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  const first = await provision(built)
  t.equal(first.statusCode, 200)
  t.match(first.json().config.ACME_DB_API_KEY, /^mgk_/)
  const again = await provision(built)
  t.equal(again.body, first.body)
  const rows = await allRows(built.services)
  t.equal(rows.credentials.length, 1)
  t.equal(rows.events.length, 1, 'a repeat records nothing')
  t.same(await jobs(built), [], 'the grant of an existing account is not queued')
})

t.test('a pending account without a key that a synchronous provision activates gets a key', async (t) => {
  const built = await build(t, grantEnv)
  const pending = await built.services.lifecycle.execute({ key }, { type: 'pending' }, { createIfAbsent: true })
  const res = await provision(built)
  t.equal(res.statusCode, 200)
  const rows = await allRows(built.services)
  t.same(rows.accounts.map((a) => [a.id, a.status]), [[pending.account!.id, 'active']])
  t.same(rows.events.map((e) => e.type), ['account.pending', 'account.provisioned'])
  t.equal(rows.credentials.length, 1)
  t.equal(built.services.secrets.open(rows.credentials[0]!.secret_encrypted), res.json().config.ACME_DB_API_KEY)
})

t.test('asynchronous mode: 202, the pending account gets its key and the exchange job in the same write; a repeat adds nothing', async (t) => {
  const built = await build(t, { ...grantEnv, HEROKU_PROVISIONING: 'async' })
  const res = await provision(built)
  t.equal(res.statusCode, 202)
  const rows = await allRows(built.services)
  t.same(rows.accounts.map((a) => a.status), ['pending'])
  t.equal(rows.credentials.length, 1)
  t.equal(rows.credentials[0]!.account_id, rows.accounts[0]!.id)
  t.same((await jobs(built)).map((j) => [j.kind, j.account_id]), [['heroku.exchange_grant', rows.accounts[0]!.id]])
  const again = await provision(built)
  t.equal(again.statusCode, 202)
  t.equal(again.body, res.body)
  t.same(await allRows(built.services), rows)
  t.equal((await jobs(built)).length, 1)
})
