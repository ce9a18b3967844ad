import t from 'tap'
import { equalJitterBackoff, type ClaimedJob, type JobHandlers, type JobOutcome } from '../../../core/index.js'
import { createJobWorkerFromServices } from '../../../src/jobs/job.wiring.js'
import { build, type Built } from '../../helpers/build.js'

type Script = (job: ClaimedJob) => Promise<JobOutcome>

function setup (built: Built, script: Script, backoff = { baseMs: 1000, capMs: 8000 }) {
  const seen: ClaimedJob[] = []
  const handlers: JobHandlers = { 'test.job': { backoff, run: async (job) => { seen.push(job); return script(job) } } }
  const worker = (id: string, leaseMs = 60_000) =>
    createJobWorkerFromServices(built.services, { workerId: id, leaseMs }, { handlers, fraction: () => 0.5 })
  const rows = () => built.services.db.selectFrom('jobs').selectAll().orderBy('id').execute()
  return { seen, worker, rows }
}

async function account (built: Built): Promise<string> {
  const r = await built.services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'res-1' } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
  return r.account!.id
}

t.test('a job queued inside a lifecycle change exists exactly when the change commits', async (t) => {
  const built = await build(t)
  const { services } = built
  await t.rejects(services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'res-1' } }, { type: 'provision', plan: 'basic' }, {
    createIfAbsent: true,
    within: async (tx, r) => {
      await services.jobs.enqueueWithin(tx, { kind: 'test.job', accountId: r.account!.id })
      throw new Error('boom')
    }
  }), /boom/)
  t.equal((await services.db.selectFrom('jobs').selectAll().execute()).length, 0, 'rolled back with the change')
  await services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId: 'res-1' } }, { type: 'provision', plan: 'basic' }, {
    createIfAbsent: true,
    within: async (tx, r) => { await services.jobs.enqueueWithin(tx, { kind: 'test.job', accountId: r.account!.id }) }
  })
  const jobs = await services.db.selectFrom('jobs').selectAll().execute()
  t.equal(jobs.length, 1)
  t.match(jobs[0], { kind: 'test.job', status: 'pending', attempts: 0 })
})

t.test('the secret part is sealed at rest, opened for the handler, and dropped when the job ends', async (t) => {
  const built = await build(t)
  const { seen, worker, rows } = setup(built, async () => ({ status: 'done' }))
  await built.services.jobs.enqueue({ kind: 'test.job', payload: { visible: 1 }, secret: { code: 'very-secret-code-42' } })
  const [row] = await rows()
  t.notMatch(row!.secret_encrypted, /very-secret-code-42/)
  t.notMatch(JSON.stringify(row!.payload), /very-secret/)
  t.equal(await worker('w1').runOnce(), 1)
  t.same(seen[0]!.secret, { code: 'very-secret-code-42' })
  t.same(seen[0]!.payload, { visible: 1 })
  const [done] = await rows()
  t.equal(done!.status, 'succeeded')
  t.equal(done!.secret_encrypted, null)
})

t.test('transient failures back off exponentially with equal jitter, Retry-After wins when longer, and the last failure is dead', async (t) => {
  const built = await build(t)
  const outcomes: JobOutcome[] = [
    { status: 'retry', error: 'HTTP 500' },
    { status: 'retry', error: 'HTTP 429', retryAfterMs: 30_000 },
    { status: 'retry', error: 'HTTP 503' }
  ]
  const { worker, rows } = setup(built, async () => outcomes.shift()!)
  const w = worker('w1')
  await built.services.jobs.enqueue({ kind: 'test.job', maxAttempts: 3 })
  const start = built.clock.now().getTime()

  t.equal(await w.runOnce(), 1)
  let [row] = await rows()
  t.match(row, { status: 'pending', attempts: 1, last_error: 'HTTP 500', lease_owner: null })
  t.equal(new Date(row!.run_at).getTime() - start, equalJitterBackoff(1, { baseMs: 1000, capMs: 8000 }, 0.5), '750 ms: half of 1 s fixed, half jittered')
  t.equal(await w.runOnce(), 0, 'not due yet')

  built.clock.advance(750)
  t.equal(await w.runOnce(), 1)
  ;[row] = await rows()
  t.equal(new Date(row!.run_at).getTime() - built.clock.now().getTime(), 30_000, 'Retry-After (30 s) beats the 1.5 s backoff')
  built.clock.advance(29_999)
  t.equal(await w.runOnce(), 0)
  built.clock.advance(1)
  t.equal(await w.runOnce(), 1)
  ;[row] = await rows()
  t.match(row, { status: 'dead', attempts: 3 })
  t.match(row!.last_error, /HTTP 503.*gave up after 3 attempts/)

  const res = await built.app.inject({ method: 'GET', url: '/v1/jobs?status=dead', headers: built.auth })
  t.equal(res.statusCode, 200)
  t.same(res.json().data.map((j: { id: string, attempts: number }) => [j.id, j.attempts]), [[row!.id, 3]])
  t.notOk('secret_encrypted' in res.json().data[0])
})

t.test('a permanent failure is dead at once, a throw is retried, and a dead job frees its dedupe key', async (t) => {
  const built = await build(t)
  const outcomes: Array<JobOutcome | Error> = [new Error('socket hang up'), { status: 'failed', error: 'HTTP 422' }, { status: 'done' }]
  const { worker, rows } = setup(built, async () => {
    const next = outcomes.shift()!
    if (next instanceof Error) throw next
    return next
  })
  const w = worker('w1')
  t.equal(await built.services.jobs.enqueue({ kind: 'test.job', dedupeKey: 'once' }), true)
  t.equal(await built.services.jobs.enqueue({ kind: 'test.job', dedupeKey: 'once' }), false, 'the same key again does nothing')
  await w.runOnce()
  t.match((await rows())[0], { status: 'pending', last_error: /unexpected: socket hang up/ })
  built.clock.advance(60_000)
  await w.runOnce()
  t.match((await rows())[0], { status: 'dead', attempts: 2, last_error: 'HTTP 422', dedupe_key: null })
  t.equal(await built.services.jobs.enqueue({ kind: 'test.job', dedupeKey: 'once' }), true, 'the work may be asked for again')
  await w.runOnce()
  t.same((await rows()).map((r) => r.status), ['dead', 'succeeded'])
})

t.test('a job under lease is not claimed twice; an expired lease is taken over and the old holder cannot record', async (t) => {
  const built = await build(t)
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  let calls = 0
  const { worker, rows } = setup(built, async () => {
    calls++
    if (calls === 1) { await held; return { status: 'retry', error: 'late answer from a stuck worker' } }
    return { status: 'done' }
  })
  const id = await account(built)
  await built.services.jobs.enqueue({ kind: 'test.job', accountId: id })
  const a = worker('a', 10_000)
  const b = worker('b', 10_000)
  const first = a.runOnce()
  await new Promise((resolve) => setImmediate(resolve))
  while ((await rows())[0]!.status !== 'running') await new Promise((resolve) => setImmediate(resolve))
  t.equal(await b.runOnce(), 0, 'held by a')
  built.clock.advance(10_000)
  t.equal(await b.runOnce(), 1, 'a\'s lease ran out: b takes over')
  t.match((await rows())[0], { status: 'succeeded', attempts: 2 })
  release()
  await first
  t.match((await rows())[0], { status: 'succeeded', attempts: 2, last_error: null }, 'a\'s late result was fenced off')
  const metrics = await built.services.metrics.getSingleMetricAsString('marketgate_jobs_total')
  t.match(metrics, /kind="test.job",outcome="lease_lost"\} 1/)
})
