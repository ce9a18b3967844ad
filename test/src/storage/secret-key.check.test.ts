import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../../../src/config.js'
import { createCredentialStore } from '../../../src/storage/credential.store.js'
import { createOAuthTokenStore } from '../../../src/storage/oauth-token.store.js'
import { SecretKeyMismatchError } from '../../../src/storage/secret-key.check.js'
import { secretKeyName } from '../../../src/services.js'
import { build, testSecretKey, type Built } from '../../helpers/build.js'
import { sealV1 } from '../../helpers/legacy-seal.js'
import { restart } from '../../helpers/restart.js'

const otherKey = 'another-secret-key-0123456789-0123456789-xyz'
const thirdKey = 'a-third-secret-key-0123456789-0123456789-xyz'

const checkRow = (b: Built) => b.services.db.withTables<{ secret_key_check: { id: string, sealed: string } }>()
  .selectFrom('secret_key_check').selectAll().execute()
const dropCheck = (b: Built) => b.services.db.withTables<{ secret_key_check: { id: string } }>()
  .deleteFrom('secret_key_check').execute()

/** The refusal is a ConfigError (exit 78) on one line that names the variable and shows no key. */
function assertRefusal (t: Test, err: unknown, where: string): void {
  t.ok(err instanceof SecretKeyMismatchError, 'SecretKeyMismatchError')
  t.ok(err instanceof ConfigError, 'a ConfigError: the CLI exits 78')
  const message = (err as Error).message
  t.match(message, /^MARKETGATE_SECRET_KEY: /)
  t.ok(message.includes(`(${where})`), `names ${where}: ${message}`)
  t.match(message, /rotate-secret-key/)
  t.notMatch(message, /\n/, 'one line')
  for (const key of [testSecretKey, otherKey, thirdKey]) t.notOk(message.includes(key), 'no key in the message')
}

async function refusal (t: Test, start: Promise<unknown>, where: string): Promise<void> {
  const err = await start.then(() => undefined, (e: unknown) => e)
  if (err === undefined) return void t.fail('the start should have stopped')
  assertRefusal(t, err, where)
}

t.test('the first start writes the key check; the same key starts again; another key stops the start', async (t) => {
  const built = await build(t)
  const rows = await checkRow(built)
  t.equal(rows.length, 1)
  t.ok(built.services.secrets.isCurrent(rows[0]!.sealed), 'sealed under the key in use')
  await restart(t, built, { key: testSecretKey })
  await refusal(t, restart(t, built, { key: otherKey }), 'secret_key_check')
  const withPrevious = await restart(t, built, { key: otherKey, previous: thirdKey }).then(() => undefined, (e: unknown) => e as Error)
  assertRefusal(t, withPrevious, 'secret_key_check')
  t.match(withPrevious?.message, /^MARKETGATE_SECRET_KEY: neither it nor MARKETGATE_SECRET_KEY_PREVIOUS opens/)
  t.same(await checkRow(built), rows, 'a refused start writes nothing')
})

// Databases from before the key check: one stored value of each sealed table is opened.
const writers: Record<string, (t: Test, b: Built) => Promise<void>> = {
  webhook_endpoints: async (t, b) => {
    const res = await b.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: b.auth, payload: { url: 'http://vendor.test/hook' } })
    t.equal(res.statusCode, 201)
  },
  account_credentials: async (t, b) => {
    const r = await b.services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'key-1' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
    const { db, secrets, clock, random } = b.services
    t.match(await createCredentialStore({ db, secrets, clock, random }).ensureApiKeyOf(r.account!.id), /^mgk_/)
  },
  oauth_tokens: async (t, b) => {
    const r = await b.services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'oauth-1' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
    await createOAuthTokenStore(b.services).save(r.account!.id, { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: new Date(0) })
  },
  jobs: async (t, b) => {
    await b.services.jobs.enqueue({ kind: 'test.job', payload: {}, secret: { code: 'grant-1' } })
  }
}

for (const [table, write] of Object.entries(writers)) {
  t.test(`a database from before the key check holding ${table} starts with its key only`, async (t) => {
    const built = await build(t)
    await write(t, built)
    await dropCheck(built)
    await refusal(t, restart(t, built, { key: otherKey }), `${table}.${table === 'oauth_tokens' ? 'access_token_encrypted' : 'secret_encrypted'}`)
    t.same(await checkRow(built), [], 'a refused start writes no check')
    await restart(t, built, { key: testSecretKey })
    const rows = await checkRow(built)
    t.equal(rows.length, 1, 'the right key writes the check')
    await refusal(t, restart(t, built, { key: otherKey }), 'secret_key_check')
  })
}

t.test('values sealed before key ids (v1) are checked too', async (t) => {
  const built = await build(t)
  await writers.webhook_endpoints!(t, built)
  await built.services.db.updateTable('webhook_endpoints').set({ secret_encrypted: sealV1(testSecretKey, 'whsec_legacy') }).execute()
  await dropCheck(built)
  await refusal(t, restart(t, built, { key: otherKey }), 'webhook_endpoints.secret_encrypted')
  await restart(t, built, { key: testSecretKey })
  t.equal((await checkRow(built)).length, 1)
})

t.test('an empty database without a check takes the key it first starts with', async (t) => {
  const built = await build(t)
  await dropCheck(built)
  await restart(t, built, { key: otherKey })
  await restart(t, built, { key: otherKey })
  await refusal(t, restart(t, built, { key: testSecretKey }), 'secret_key_check')
})

t.test('two instances starting at once on an empty database with different keys: one starts, the other stops', async (t) => {
  const built = await build(t)
  await dropCheck(built)
  const results = await Promise.allSettled([restart(t, built, { key: otherKey }), restart(t, built, { key: thirdKey })])
  const refused = results.filter((r) => r.status === 'rejected')
  t.equal(refused.length, 1)
  assertRefusal(t, (refused[0] as PromiseRejectedResult).reason, 'secret_key_check')
})

t.test('the embedded default names its key file, never the key', async (t) => {
  const name = secretKeyName(loadConfig({ MARKETGATE_DATA_DIR: '/srv/marketgate' }))
  t.equal(name, 'the key in /srv/marketgate/secret.key (MARKETGATE_SECRET_KEY is not set)')
  t.equal(secretKeyName(loadConfig({ MARKETGATE_SECRET_KEY: otherKey })), 'MARKETGATE_SECRET_KEY')
  const err = new SecretKeyMismatchError(name, 'jobs.secret_encrypted', false)
  t.match(err.message, /^MARKETGATE_SECRET_KEY: the key in \/srv\/marketgate\/secret.key \(MARKETGATE_SECRET_KEY is not set\) does not open the secrets stored in the database \(jobs.secret_encrypted\)/)
  t.equal(err.variable, 'MARKETGATE_SECRET_KEY')
})
