import t from 'tap'
import { createCredentialStore } from '../../../../src/storage/credential.store.js'
import { answer, startHookServer } from '../../../helpers/hook-server.js'
import { v3Body } from '../../../helpers/heroku.js'
import { platform, resourceUuid } from './helpers.js'

async function setup (t: Parameters<typeof platform>[0]) {
  const hook = await startHookServer(t)
  const h = await platform(t, hook.env)
  return { ...h, hook }
}

t.test('undecided with a grant: 202 and pending; the retried decision completes through the Platform API (vendor config, API key, provisioned)', async (t) => {
  const h = await setup(t)
  h.hook.answer(answer(503, {}))
  const res = await h.provision()
  t.equal(res.statusCode, 202)
  t.notOk('config' in res.json())
  let account = await h.account()
  t.match(account, { status: 'pending', metadata: { provisioning: 'hook' } })
  t.same(await h.eventTypes(), ['account.pending'])
  const again = await h.provision()
  t.equal(again.body, res.body, 'a repeat while undecided answers the same 202')
  t.equal(h.hook.calls.length, 1, 'the repeat does not ask')

  // The exchange succeeds; the hook is asked again and still does not decide: retried with backoff.
  await h.worker.drain()
  t.equal(h.hook.calls.length, 2)
  const decide = (await h.jobs()).find((j) => j.kind === 'heroku.hook_decide')!
  t.match(decide, { status: 'pending', attempts: 1, last_error: 'the hook answered HTTP 503' })
  t.same(h.heroku.calls('PATCH /addons/config'), [])

  h.hook.answer(answer(200, { allow: true, config: { ACME_DB_URL: 'postgres://u:vendor-db-password-99@db-7/acme' } }))
  h.clock.advance(new Date(decide.run_at).getTime() - h.clock.now().getTime())
  await h.worker.drain()
  t.equal(h.hook.calls.length, 3)
  t.equal(new Set(h.hook.calls.map((c) => c.headers['webhook-id'])).size, 1, 'every ask of the question carries one id')
  const apiKey = await createCredentialStore({ db: h.services.db, secrets: h.services.secrets, clock: h.clock, random: h.services.random }).currentApiKey(account.id)
  const [patch] = h.heroku.calls('PATCH /addons/config')
  t.same(patch!.json, { config: [{ name: 'ACME_DB_URL', value: 'postgres://u:vendor-db-password-99@db-7/acme' }, { name: 'ACME_DB_API_KEY', value: apiKey }] })
  t.equal(h.heroku.states.get(resourceUuid), 'provisioned')
  account = await h.account()
  t.equal(account.status, 'active')
  t.same(await h.eventTypes(), ['account.pending', 'account.provisioned'])
  for (const j of await h.jobs()) t.notMatch(j.secret_encrypted ?? '', /vendor-db-password-99/, 'the config is sealed in the job')
  t.notMatch(h.logs.join(''), /vendor-db-password-99/)
})

t.test('a late refusal fails the account with the vendor\'s message', async (t) => {
  const h = await setup(t)
  h.hook.answer((_c, res) => res.destroy())
  t.equal((await h.provision()).statusCode, 202)
  h.hook.answer(answer(200, { allow: false, message: 'Fraud check failed.' }))
  await h.worker.drain()
  const account = await h.account()
  t.equal(account.status, 'failed')
  const events = await h.services.db.selectFrom('account_events').select(['type', 'data']).orderBy('id').execute()
  t.same(events.at(-1), { type: 'account.failed', data: { reason: 'Fraud check failed.' } })
  t.same(h.heroku.calls('PATCH /addons/config'), [])
  t.match((await h.jobs()).find((j) => j.kind === 'heroku.hook_decide'), { status: 'succeeded' })
})

t.test('undecided without a grant in the request: 503 and nothing written, even with a client secret', async (t) => {
  const h = await setup(t)
  h.hook.answer(answer(500, {}))
  t.equal((await h.provision(v3Body({ oauth_grant: null }))).statusCode, 503)
  t.equal((await h.services.db.selectFrom('accounts').select('id').execute()).length, 0)
})
