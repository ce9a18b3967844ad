import t from 'tap'
import { createLoginService } from '../../../src/login/login.handoff.js'
import { createCredentialStore } from '../../../src/storage/credential.store.js'
import { createDeliveryWorker } from '../../../src/webhooks/delivery.worker.js'
import type { Services } from '../../../src/services.js'
import { testSecretKey } from '../../helpers/build.js'
import { restart } from '../../helpers/restart.js'
import { harness, testTimeoutMs } from '../webhooks/harness.js'

// The overlap of a rotation: every instance runs the new key with MARKETGATE_SECRET_KEY_PREVIOUS
// set to the old one, and everything made under the old key keeps working.
const newKey = 'the-new-secret-key-0123456789-0123456789-xyz'

const credentialsOf = (s: Services) => createCredentialStore({ db: s.db, secrets: s.secrets, clock: s.clock, random: s.random })
const loginOf = (s: Services) => createLoginService({ db: s.db, secrets: s.secrets, clock: s.clock, random: s.random, publicUrl: 'http://gateway.test', loginUrl: 'https://vendor.test/login' })

t.test('with MARKETGATE_SECRET_KEY_PREVIOUS an old-key database starts and serves: endpoint secrets, API keys, tickets, sessions', async (t) => {
  const h = await harness(t)
  // Made under the old key.
  const account = (await h.services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'res-old' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })).account!
  const apiKey = (await credentialsOf(h.services).ensureApiKeyOf(account.id))!
  const handoff = await loginOf(h.services).begin(account, { email: 'a@b.test', source: 'test' })
  const ticket = new URL(handoff.location).searchParams.get('ticket')!
  const cookie = handoff.cookies[0]!.value
  // Drain the old instance's outbox, so the one delivery below is made by the new instance.
  await h.worker.runOnce()

  await t.rejects(restart(t, h, { key: newKey }), { name: 'SecretKeyMismatchError' }, 'the new key alone cannot start yet')
  const logs: string[] = []
  const next = await restart(t, h, { key: newKey, previous: testSecretKey }, logs)
  t.match(logs.join(''), /sealed under MARKETGATE_SECRET_KEY_PREVIOUS: run `marketgate rotate-secret-key`/)
  t.notOk(logs.join('').includes(newKey) || logs.join('').includes(testSecretKey), 'no key in the logs')

  t.match(await credentialsOf(next).verifyApiKey(apiKey), { accountId: account.id }, 'an API key digested under the old key is found')
  t.equal(await credentialsOf(next).currentApiKey(account.id), apiKey, 'and opens')
  t.match(next.login.readSession(cookie), { accountId: account.id }, 'a session signed under the old key verifies')
  t.match(await loginOf(next).redeem(ticket), { accountId: account.id }, 'a ticket digested under the old key redeems')
  t.equal(next.login.readSession(`${cookie.slice(0, -3)}abc`), undefined, 'a forged cookie still fails')

  // A delivery made by the new instance is signed with the endpoint secret sealed under the old key.
  const worker = createDeliveryWorker({
    db: next.db, clock: h.clock, random: next.random, secrets: next.secrets, logger: next.logger,
    metrics: next.metrics, engine: next.database.engine, databaseUrl: next.database.url, fraction: () => 0.5
  }, { timeoutMs: testTimeoutMs, workerId: 'new', leaseMs: 60_000 })
  t.teardown(() => worker.stop())
  const before = h.receiver.received.length
  await next.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'res-new' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  t.equal(await worker.runOnce(), 1)
  t.same(h.receiver.received.slice(before).map((r) => r.verifiedBy), [[h.endpoint.secret]], 'signed with the endpoint secret')

  // What the overlap makes is made under the new key.
  const fresh = (await credentialsOf(next).ensureApiKeyOf((await next.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'res-2' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })).account!.id))!
  const row = await next.db.selectFrom('account_credentials').selectAll().where('secret_digest', '=', next.secrets.digest(fresh)).executeTakeFirstOrThrow()
  t.ok(next.secrets.isCurrent(row.secret_encrypted))
})
