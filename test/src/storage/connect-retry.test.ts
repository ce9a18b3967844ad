import t from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectWithRetry, DatabaseUnreachableError, describeDatabaseUrl } from '../../../src/storage/connect.retry.js'
import { openDatabase } from '../../../src/storage/database.js'
import { freePort } from '../../helpers/net.js'

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), { code: 'ECONNREFUSED' })

/** A fake clock the fake sleep advances: no real waiting. */
function fakeTime () {
  let ms = 1_000_000
  const sleeps: number[] = []
  return { sleeps, now: () => ms, sleep: async (d: number) => { sleeps.push(d); ms += d } }
}

t.test('start-up retries an unreachable database with growing, capped, jittered delays, then gives up with one line and no password', async (t) => {
  const time = fakeTime()
  const warns: Array<{ obj: Record<string, unknown>, msg: string }> = []
  let attempts = 0
  const url = 'postgres://app:s3cret-pw@db.internal:5432/marketgate'
  const err = await connectWithRetry(url, 20, async () => { attempts++; throw refused() }, {
    ...time, random: () => 0.5, log: { warn: (obj, msg) => warns.push({ obj: obj as Record<string, unknown>, msg }) }
  }).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof DatabaseUnreachableError)
  const message = (err as Error).message
  t.notMatch(message, /s3cret/, 'no password in the message')
  t.notMatch(message, /\n/, 'one line')
  t.match(message, /db\.internal:5432\/marketgate/)
  t.match(message, /DATABASE_URL/)
  t.match(message, /20 s/)
  t.ok(time.sleeps.reduce((a, b) => a + b, 0) <= 20_000, 'never waits past the deadline')
  t.same(time.sleeps.slice(0, 5), [188, 375, 750, 1500, 3000], 'each delay doubles (equal jitter at 0.5: 3/4 of the step)')
  t.ok(time.sleeps.every((d) => d <= 5000), 'capped at 5 s')
  t.equal(warns.length, attempts - 1, 'one warn line per failed attempt before the last')
  t.notMatch(JSON.stringify(warns), /s3cret/, 'no password in the log')
})

t.test('start-up succeeds as soon as the database answers', async (t) => {
  const time = fakeTime()
  let attempts = 0
  await connectWithRetry('postgres://u@h/db', 60, async () => { if (++attempts < 4) throw Object.assign(new Error('the database system is starting up'), { code: '57P03' }) }, { ...time, random: () => 0 })
  t.equal(attempts, 4)
  t.equal(time.sleeps.length, 3)
})

t.test('an error waiting cannot fix (a wrong password) stops at once', async (t) => {
  const time = fakeTime()
  let attempts = 0
  const err = await connectWithRetry('postgres://u:pw@h/db', 60, async () => {
    attempts++
    throw Object.assign(new Error('password authentication failed for user "u"'), { code: '28P01' })
  }, time).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof DatabaseUnreachableError)
  t.equal(attempts, 1)
  t.match((err as Error).message, /password authentication failed/)
})

t.test("the URL's password never appears in the description", async (t) => {
  t.equal(describeDatabaseUrl('postgres://app:p%40ss@db:5432/mg?sslmode=require'), 'postgres://app@db:5432/mg')
  t.equal(describeDatabaseUrl('not a url'), 'DATABASE_URL (unparsable)')
})

t.test('openDatabase against a closed port retries for connectTimeoutS and throws the typed error', async (t) => {
  const port = await freePort()
  const time = fakeTime()
  const err = await openDatabase({ url: `postgres://u:hunter2@127.0.0.1:${port}/db`, dataDir: '', connectTimeoutS: 3 }, { ...time, random: () => 0.5 })
    .then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof DatabaseUnreachableError)
  t.notMatch((err as Error).message, /hunter2/)
  t.ok(time.sleeps.length >= 2, 'it retried')
})

t.test('the embedded data dir is made private to its user, also one left world-readable before', async (t) => {
  // PGlite's first start costs seconds: a lock held by a live process (our parent) stops the
  // open right after the directory is made private, before PGlite starts.
  const root = mkdtempSync(join(tmpdir(), 'mg-perm-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const dir = join(root, 'data')
  mkdirSync(dir)
  chmodSync(dir, 0o755)
  writeFileSync(join(dir, 'marketgate.lock'), String(process.ppid))
  await t.rejects(openDatabase({ url: undefined, dataDir: dir }), /in use by process/)
  t.equal(statSync(dir).mode & 0o777, 0o700)
})
