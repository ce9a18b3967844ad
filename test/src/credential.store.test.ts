import t from 'tap'
import type { LifecycleTx } from '../../core/index.js'
import { createCredentialStore } from '../../src/storage/credential.store.js'
import { build } from '../helpers/build.js'

const key = { product: 'default', marketplace: 'heroku' as const, externalId: 'cred-1' }

t.test('an API key is issued once per account, sealed, and read back in clear', async (t) => {
  const { services } = await build(t)
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  let issued = ''
  const r = await services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, {
    createIfAbsent: true, within: async (tx, result) => { issued = await credentials.ensureApiKey(tx, result.account!.id) }
  })
  t.match(issued, /^mgk_/)
  t.equal(await credentials.currentApiKey(r.account!.id), issued)
  // A second ensure inside another change returns the same key and adds no row.
  let again = ''
  await services.lifecycle.execute({ key }, { type: 'changePlan', plan: 'pro' }, {
    within: async (tx, result) => { again = await credentials.ensureApiKey(tx, result.account!.id) }
  })
  t.equal(again, issued)
  const rows = await services.db.selectFrom('account_credentials').selectAll().execute()
  t.equal(rows.length, 1)
  t.not(rows[0]!.secret_encrypted, issued)
  t.equal(await credentials.currentApiKey(services.random.uuid()), undefined)
})

t.test('a key issued in a transaction that fails is rolled back with it', async (t) => {
  const { services } = await build(t)
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  await t.rejects(services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, {
    createIfAbsent: true,
    within: async (tx, result) => { await credentials.ensureApiKey(tx, result.account!.id); throw new Error('boom') }
  }), /boom/)
  t.equal((await services.db.selectFrom('account_credentials').selectAll().execute()).length, 0)
  t.equal((await services.db.selectFrom('accounts').selectAll().execute()).length, 0)
})

t.test('a transaction from elsewhere is refused', async (t) => {
  const { services } = await build(t)
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  await t.rejects(credentials.ensureApiKey({} as LifecycleTx, 'x'), /not a transaction of the account store/)
})

t.test('on its own, a key is issued once for an account that has none, even when asked concurrently', async (t) => {
  const { services } = await build(t)
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  const r = await services.lifecycle.execute({ key }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  const keys = await Promise.all(Array.from({ length: 5 }, () => credentials.ensureApiKeyOf(r.account!.id)))
  t.equal(new Set(keys).size, 1)
  t.match(keys[0], /^mgk_/)
  t.equal(await credentials.currentApiKey(r.account!.id), keys[0])
  t.equal((await services.db.selectFrom('account_credentials').selectAll().execute()).length, 1)
  t.equal(await credentials.ensureApiKeyOf(services.random.uuid()), undefined, 'no account, no key')
})
