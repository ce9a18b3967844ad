import { Writable } from 'node:stream'
import t from 'tap'
import { sql } from 'kysely'
import { buildApp } from '../../../src/app.js'
import { ConfigError } from '../../../src/config.js'
import { createSecretBox } from '../../../src/crypto/secret-box.js'
import { createLogger } from '../../../src/logger.js'
import type { Services } from '../../../src/services.js'
import { createCredentialStore } from '../../../src/storage/credential.store.js'
import { createOAuthTokenStore } from '../../../src/storage/oauth-token.store.js'
import { sealedTables } from '../../../src/storage/sealed-columns.js'
import { resealRow, rotateSecretKey } from '../../../src/storage/secret-key.rotation.js'
import { build, testSecretKey, type Built } from '../../helpers/build.js'
import { sealV1 } from '../../helpers/legacy-seal.js'
import { restart } from '../../helpers/restart.js'

const oldKey = testSecretKey
const newKey = 'the-new-secret-key-0123456789-0123456789-xyz'

function capture () {
  const lines: string[] = []
  const logger = createLogger('info', new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb() } }))
  return { logger, lines }
}

/** Every sealed value of every table, in a stable order: to compare runs and to open them all. */
async function sealedValues (b: Built): Promise<Array<{ where: string, sealed: string }>> {
  const out: Array<{ where: string, sealed: string }> = []
  for (const { table, key, sealed } of sealedTables) {
    for (const column of sealed) {
      const { rows } = await sql<{ k: string, v: string }>`select ${sql.ref(key)}::text as k, ${sql.ref(column)} as v from ${sql.table(table)}
        where ${sql.ref(column)} is not null order by 1`.execute(b.services.db)
      for (const r of rows) out.push({ where: `${table}.${column}:${r.k}`, sealed: r.v })
    }
  }
  return out
}

const provision = async (s: Services, externalId: string) =>
  (await s.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })).account!

/** A database under the old key with a secret in every sealed column (one of them in the v1 format). */
async function oldKeyDatabase (t: Parameters<typeof build>[0]) {
  const b = await build(t)
  const { app, auth, services } = b
  const created = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'http://vendor.test/a' } })
  const a = created.json() as { id: string, secret: string }
  const rotated = (await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${a.id}/rotate-secret`, headers: auth })).json() as { secret: string }
  const other = (await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'http://vendor.test/b' } })).json() as { id: string, secret: string }
  // A database from before key ids holds v1 values.
  await services.db.updateTable('webhook_endpoints').set({ secret_encrypted: sealV1(oldKey, other.secret) }).where('id', '=', other.id).execute()
  const accounts = [await provision(services, 'r-1'), await provision(services, 'r-2')]
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  const apiKeys = [(await credentials.ensureApiKeyOf(accounts[0]!.id))!, (await credentials.ensureApiKeyOf(accounts[1]!.id))!]
  await createOAuthTokenStore(services).save(accounts[0]!.id, { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: new Date(0) })
  await services.jobs.enqueue({ kind: 'test.job', payload: {}, secret: { code: 'grant-1' } })
  await services.jobs.enqueue({ kind: 'test.job', payload: {} })
  return { b, accounts, apiKeys, endpoints: { a: { id: a.id, secret: rotated.secret, previous: a.secret }, other } }
}

t.test('rotation re-seals every secret; the gateway then starts with the new key alone; a second run changes nothing', async (t) => {
  const { b, accounts, apiKeys, endpoints } = await oldKeyDatabase(t)
  const before = await sealedValues(b)
  const { logger, lines } = capture()
  const report = await rotateSecretKey({ db: b.services.db, current: newKey, previous: oldKey, logger, batchSize: 1 })
  t.same(report, {
    tables: {
      webhook_endpoints: { resealed: 2, failed: 0, conflicts: 0 },
      account_credentials: { resealed: 2, failed: 0, conflicts: 0 },
      oauth_tokens: { resealed: 1, failed: 0, conflicts: 0 },
      jobs: { resealed: 1, failed: 0, conflicts: 0 }
    },
    keyCheckRewritten: true,
    failed: 0,
    conflicts: 0
  })
  t.match(lines.join(''), /secret key rotation: table done/)
  t.notOk(lines.join('').includes(newKey) || lines.join('').includes(oldKey) || lines.join('').includes(apiKeys[0]!), 'no key or secret logged')

  const after = await sealedValues(b)
  t.equal(after.length, before.length, 'every sealed value still there')
  const newOnly = createSecretBox(newKey)
  const oldOnly = createSecretBox(oldKey)
  for (const { where, sealed } of after) {
    t.ok(newOnly.isCurrent(sealed), `${where} sealed under the new key`)
    t.equal(newOnly.open(sealed), oldOnly.open(before.find((v) => v.where === where)!.sealed), `${where} holds the same secret`)
  }

  await t.rejects(restart(t, b, { key: oldKey }), { name: 'SecretKeyMismatchError' }, 'the old key alone no longer starts')
  const next = await restart(t, b, { key: newKey })
  const credentials = createCredentialStore({ db: next.db, secrets: next.secrets, clock: next.clock, random: next.random })
  for (const [i, key] of apiKeys.entries()) {
    t.match(await credentials.verifyApiKey(key), { accountId: accounts[i]!.id }, 'an API key is found by its new digest')
    t.equal(await credentials.currentApiKey(accounts[i]!.id), key)
  }
  t.match(await createOAuthTokenStore(next).get(accounts[0]!.id), { accessToken: 'at-1', refreshToken: 'rt-1' })
  const ep = await next.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpoints.a.id).executeTakeFirstOrThrow()
  t.equal(next.secrets.open(ep.secret_encrypted), endpoints.a.secret)
  t.equal(next.secrets.open(ep.previous_secret_encrypted!), endpoints.a.previous)

  const again = await rotateSecretKey({ db: b.services.db, current: newKey, previous: oldKey, logger })
  const zero = { resealed: 0, failed: 0, conflicts: 0 }
  t.same(again, { tables: { webhook_endpoints: zero, account_credentials: zero, oauth_tokens: zero, jobs: zero }, keyCheckRewritten: false, failed: 0, conflicts: 0 })
  t.same(await sealedValues(b), after, 'the second run wrote nothing')
})

t.test('rotate-secret-key needs MARKETGATE_SECRET_KEY_PREVIOUS, and one that differs from the new key', async (t) => {
  const b = await build(t)
  const { logger } = capture()
  for (const previous of [undefined, newKey]) {
    const err = await rotateSecretKey({ db: b.services.db, current: newKey, previous, logger }).then(() => undefined, (e: unknown) => e as ConfigError)
    t.ok(err instanceof ConfigError)
    t.equal(err?.variable, 'MARKETGATE_SECRET_KEY_PREVIOUS')
    t.notOk(err?.message.includes(newKey))
  }
})

t.test('a value neither key opens is counted and left as it is; the rest are re-sealed', async (t) => {
  const { b, endpoints } = await oldKeyDatabase(t)
  const lost = createSecretBox('a-third-secret-key-0123456789-0123456789-xyz').seal('whsec_lost')
  await b.services.db.updateTable('webhook_endpoints').set({ secret_encrypted: lost }).where('id', '=', endpoints.other.id).execute()
  const { logger, lines } = capture()
  const report = await rotateSecretKey({ db: b.services.db, current: newKey, previous: oldKey, logger })
  t.same(report.tables.webhook_endpoints, { resealed: 1, failed: 1, conflicts: 0 })
  t.equal(report.failed, 1)
  t.equal(report.tables.account_credentials?.resealed, 2)
  const row = await b.services.db.selectFrom('webhook_endpoints').select('secret_encrypted').where('id', '=', endpoints.other.id).executeTakeFirstOrThrow()
  t.equal(row.secret_encrypted, lost, 'left untouched')
  t.match(lines.join(''), new RegExp(`"table":"webhook_endpoints","id":"${endpoints.other.id}".*opens under neither key`))
})

t.test('a write racing the rotation of a row is not overwritten with stale data', async (t) => {
  const { b, endpoints } = await oldKeyDatabase(t)
  const spec = sealedTables.find((s) => s.table === 'webhook_endpoints')!
  const stale = (await sql<Record<string, string | null>>`select id::text as id, secret_encrypted, previous_secret_encrypted
    from webhook_endpoints where id = ${endpoints.a.id}`.execute(b.services.db)).rows[0]!
  // Between the rotation's read and its write, an instance (new key, previous set) rotates the endpoint's secret.
  const next = await restart(t, b, { key: newKey, previous: oldKey })
  const app = await buildApp(next)
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${endpoints.a.id}/rotate-secret`, headers: b.auth })
  t.equal(res.statusCode, 200)
  const written = (res.json() as { secret: string }).secret

  t.equal(await resealRow(b.services.db, next.secrets, spec, stale), 'resealed')
  const row = await b.services.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpoints.a.id).executeTakeFirstOrThrow()
  t.equal(next.secrets.open(row.secret_encrypted), written, 'the racing write stands')
  t.equal(next.secrets.open(row.previous_secret_encrypted!), endpoints.a.secret, 'and its previous secret, re-sealed')
  t.ok(next.secrets.isCurrent(row.secret_encrypted) && next.secrets.isCurrent(row.previous_secret_encrypted!))
  t.equal(await resealRow(b.services.db, next.secrets, spec, stale), 'current', 'a stale read of a row already done changes nothing')
  await b.services.db.deleteFrom('webhook_endpoints').where('id', '=', endpoints.a.id).execute()
  t.equal(await resealRow(b.services.db, next.secrets, spec, stale), 'gone', 'nor does one of a deleted row')
})
