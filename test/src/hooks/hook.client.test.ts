import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import type { HookQuestion } from '../../../core/index.js'
import { createVendorHook } from '../../../src/hooks/hook.client.js'
import { createHookDecisionStore, type HookDecisionTable } from '../../../src/hooks/hook-decision.store.js'
import { createHookHttp } from '../../../src/hooks/hook.http.js'
import { createMetricsRegistry } from '../../../src/http/metrics.js'
import { createLogger } from '../../../src/logger.js'
import { createRandom } from '../../../src/random.js'
import { FakeClock } from '../../helpers/clock.js'
import { freshDatabase } from '../../helpers/database.js'
import { answer, hookSecret, manualDeadline, startHookServer } from '../../helpers/hook-server.js'

/** Polls a condition for at most 5 s (the ask first looks up earlier refusals in the database). */
async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
}

const question: HookQuestion = {
  type: 'provision.requested', product: 'default', marketplace: 'heroku', externalId: '01234567-89ab-cdef-0123-456789abcdef',
  plan: 'basic', region: 'amazon-web-services::us-east-1', options: { size: 'l' }
}

async function setup (t: Test, timeoutMs = 20000) {
  const server = await startHookServer(t)
  const database = await freshDatabase()
  t.teardown(() => database.close())
  // Real time: the hook server checks the signature's timestamp against its own clock.
  const clock = new FakeClock(new Date())
  const decisions = createHookDecisionStore({ db: database.db, clock, random: createRandom(clock) })
  const timer = manualDeadline()
  const http = createHookHttp({ deadline: timer.deadline })
  t.teardown(() => http.close())
  const logs: string[] = []
  const log = createLogger('info', new Writable({ write (c: Buffer, _e, cb) { logs.push(c.toString()); cb() } }))
  const metrics = createMetricsRegistry()
  let ms = 0
  const hook = createVendorHook({ settings: { url: server.url, secret: hookSecret, timeoutMs }, http, decisions, clock, log, metrics, elapsed: () => (ms += 7) })
  const rows = () => database.db.withTables<{ hook_decisions: HookDecisionTable }>().selectFrom('hook_decisions').selectAll().orderBy('id').execute()
  return { server, hook, timer, logs, metrics, rows, decisions }
}

t.test('the request is signed with standardwebhooks and carries the question in snake_case', async (t) => {
  const { server, hook } = await setup(t)
  server.answer(answer(200, { allow: true, config: { URL: 'postgres://u:p@db/1' }, log_drain_url: 'syslog+tls://logs.example:6514', message: 'ready' }))
  const decision = await hook.decide(question)
  t.same(decision, { outcome: 'allowed', config: { URL: 'postgres://u:p@db/1' }, logDrainUrl: 'syslog+tls://logs.example:6514', message: 'ready' })
  t.equal(server.calls.length, 1)
  const call = server.calls[0]!
  t.ok(call.verified, 'the signature verifies with the hook secret')
  t.equal(call.headers['webhook-id'], hook.questionId(question))
  t.equal(call.body.type, 'provision.requested')
  t.same(call.body.data, { product: 'default', marketplace: 'heroku', external_id: question.externalId, plan: 'basic', region: 'amazon-web-services::us-east-1', options: { size: 'l' } })
})

t.test('every ask of one question carries the same webhook-id; another plan is another question', async (t) => {
  const { server, hook } = await setup(t)
  server.answer(answer(503, {}))
  await hook.decide(question)
  await hook.decide(question)
  await hook.decide({ ...question, plan: 'premium' })
  t.equal(server.calls.length, 3)
  t.equal(server.calls[0]!.headers['webhook-id'], server.calls[1]!.headers['webhook-id'])
  t.not(server.calls[0]!.headers['webhook-id'], server.calls[2]!.headers['webhook-id'])
  t.match(server.calls[0]!.headers['webhook-id'], /^hook_[A-Za-z0-9_-]{32}$/)
})

t.test('refusals: allow:false with its message, a 4xx with its message or a generic one', async (t) => {
  const { server, hook } = await setup(t)
  server.answer(answer(200, { allow: false, message: 'no more databases in this region' }))
  t.same(await hook.decide(question), { outcome: 'refused', message: 'no more databases in this region' })
  server.answer(answer(403, { message: 'this team is blocked' }))
  t.same(await hook.decide({ ...question, externalId: 'b' }), { outcome: 'refused', message: 'this team is blocked' })
  server.answer(answer(404, 'not json'))
  t.same(await hook.decide({ ...question, externalId: 'c' }), { outcome: 'refused', message: 'the vendor refused (HTTP 404)' })
})

t.test('a refused question is not asked again: the refusal comes back from the record', async (t) => {
  const { server, hook, rows } = await setup(t)
  server.answer(answer(200, { allow: false, message: 'sold out' }))
  await hook.decide(question)
  server.answer(answer(200, { allow: true }))
  t.same(await hook.decide(question), { outcome: 'refused', message: 'sold out' })
  t.equal(server.calls.length, 1, 'asked once')
  t.equal((await rows()).length, 1, 'one decision recorded')
})

t.test('each cause of undecided, with its reason, recorded and never thrown', async (t) => {
  const { server, hook, rows } = await setup(t)
  const cases: Array<[string, Parameters<typeof server.answer>[0], RegExp]> = [
    ['3xx', (_c, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end(), /HTTP 302 \(redirects are not followed\)/],
    ['5xx', answer(500, { allow: true }), /HTTP 500/],
    ['bad JSON', answer(200, '{"allow": tru'), /not JSON/],
    ['no boolean allow', answer(200, { allow: 'yes' }), /without a boolean "allow"/],
    ['non-string config', answer(200, { allow: true, config: { PORT: 5432 } }), /config "PORT" that is not a string/],
    ['over 64 KiB', answer(200, { allow: true, message: 'x'.repeat(70 * 1024) }), /more than 65536 bytes/]
  ]
  for (const [name, a, reason] of cases) {
    server.answer(a)
    const d = await hook.decide({ ...question, externalId: name })
    t.equal(d.outcome, 'undecided', name)
    t.match(d.outcome === 'undecided' ? d.reason : '', reason, name)
  }
  t.equal(server.calls.length, cases.length, 'the redirect was not followed')
  const recorded = await rows()
  t.same(recorded.map((r) => r.outcome), cases.map(() => 'undecided'))
  t.same(recorded.map((r) => r.status_code), [302, 500, 200, 200, 200, 200])
})

t.test('a hook that cannot be reached is undecided', async (t) => {
  const { hook, rows, decisions } = await setup(t)
  const clock = new FakeClock(new Date())
  const http = createHookHttp()
  t.teardown(() => http.close())
  const down = createVendorHook({ settings: { url: 'http://127.0.0.1:1/', secret: hookSecret, timeoutMs: 1000 }, http, decisions, clock, log: createLogger('silent'), metrics: createMetricsRegistry() })
  const d = await down.decide(question)
  t.equal(d.outcome, 'undecided')
  t.match(d.outcome === 'undecided' ? d.reason : '', /could not be reached \(ECONNREFUSED/)
  t.equal((await rows()).length, 1)
  t.ok(hook)
})

t.test('the deadline: the hook\'s own, or the caller\'s shorter one; a hook past it is undecided (fake timer, no waiting)', async (t) => {
  const { server, hook, timer, rows } = await setup(t, 20000)
  server.answer(() => { /* never answers */ })
  const pending = hook.decide(question, { deadlineMs: 5000 })
  // Poll (bounded) until the ask is in flight at the hook, then end its deadline by hand.
  await until(() => server.calls.length === 1)
  timer.expire()
  const d = await pending
  t.same(d, { outcome: 'undecided', reason: 'the hook did not answer within 5000 ms' })
  const longer = hook.decide({ ...question, externalId: 'x' }, { deadlineMs: 60000 })
  await until(() => server.calls.length === 2)
  timer.expire()
  t.match(await longer, { outcome: 'undecided', reason: 'the hook did not answer within 20000 ms' })
  t.same(timer.asked, [5000, 20000], 'never longer than the hook\'s own deadline')
  t.equal((await rows())[0]!.status_code, null)
})

t.test('decisions are counted and timed; refusals and undecided reasons are logged without config or signature', async (t) => {
  const { server, hook, logs, metrics, rows } = await setup(t)
  server.answer(answer(200, { allow: true, config: { PASSWORD: 'config-secret-value-42' } }))
  await hook.decide(question)
  server.answer(answer(200, { allow: false, message: 'refused for a reason' }))
  await hook.decide({ ...question, externalId: 'r' })
  server.answer(answer(502, {}))
  await hook.decide({ ...question, externalId: 'u' })
  const text = await metrics.metrics()
  t.match(text, /marketgate_hook_decisions_total\{type="provision.requested",outcome="allowed"\} 1/)
  t.match(text, /marketgate_hook_decisions_total\{type="provision.requested",outcome="refused"\} 1/)
  t.match(text, /marketgate_hook_decisions_total\{type="provision.requested",outcome="undecided"\} 1/)
  t.match(text, /marketgate_hook_duration_seconds_count\{type="provision.requested"\} 3/)
  const all = logs.join('')
  t.match(all, /refused for a reason/)
  t.match(all, /HTTP 502/)
  t.notMatch(all, /config-secret-value-42/)
  t.notMatch(all, new RegExp(hookSecret.slice(6, 20)))
  for (const c of server.calls) t.notOk(all.includes(c.headers['webhook-signature']!.slice(3)), 'no signature in the log')
  t.same((await rows()).map((r) => r.duration_ms), [7, 7, 7])
})

t.test('a wrong secret does not verify at the hook (the test server can fail)', async (t) => {
  const { server, decisions } = await setup(t)
  const http = createHookHttp()
  t.teardown(() => http.close())
  const other = `whsec_${Buffer.from('another-secret-0123456789-abcdefg').toString('base64')}`
  const wrong = createVendorHook({ settings: { url: server.url, secret: other, timeoutMs: 1000 }, http, decisions, clock: new FakeClock(new Date()), log: createLogger('silent'), metrics: createMetricsRegistry() })
  t.match(await wrong.decide(question), { outcome: 'refused', message: 'bad signature' })
  t.equal(server.calls[0]!.verified, false)
})
