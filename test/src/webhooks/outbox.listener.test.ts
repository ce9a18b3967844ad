import t from 'tap'
import { Writable } from 'node:stream'
import { sql } from 'kysely'
import { createLogger } from '../../../src/logger.js'
import { outboxChannel } from '../../../src/storage/event-log.js'
import { listenForOutbox } from '../../../src/webhooks/outbox.listener.js'
import { createTestDatabase, onPostgres } from '../../helpers/database.js'
import { startTcpProxy } from '../../helpers/tcp-proxy.js'
import { eventually } from '../storage/outage.helpers.js'

const skip = onPostgres ? false : 'LISTEN on a connection of its own is Postgres only (the embedded engine listens in process)'

t.test('LISTEN reconnects with growing, jittered delays while the database is away, then wakes the worker', { skip }, async (t) => {
  const db = await createTestDatabase()
  t.teardown(() => db.close())
  const target = new URL(db.url!)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  t.teardown(() => proxy.close())
  const logs: string[] = []
  const logger = createLogger('info', new Writable({ write (chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb() } }))
  let wakes = 0
  const delays: number[] = []
  // The schedule is the test's: it records each delay and reconnects after 20 ms instead.
  const listener = listenForOutbox(proxy.urlFor(db.url!), () => { wakes++ }, logger, {
    random: () => 0.5,
    schedule: (fn, ms) => { delays.push(ms); const timer = setTimeout(fn, 20); return () => clearTimeout(timer) }
  })
  t.teardown(() => listener.close())
  t.ok(await eventually(() => listener.listening === true, 5000), 'listening')
  const notify = () => sql`select pg_notify(${outboxChannel}, '')`.execute(db.db)
  const before = wakes
  await notify()
  t.ok(await eventually(() => wakes > before, 5000), 'a NOTIFY wakes the worker')

  await proxy.cut()
  t.ok(await eventually(() => delays.length >= 4, 5000), 'it keeps trying while the database is away')
  t.same(delays.slice(0, 4), [375, 750, 1500, 3000], 'each delay doubles (equal jitter at 0.5)')
  const warnings = logs.filter((l) => l.includes('"level":40')).length
  t.ok(warnings <= 2, `a warning per outage, not per try (${warnings} for ${delays.length} tries)`)

  const woken = wakes
  await proxy.restore()
  t.ok(await eventually(() => listener.listening === true, 5000), 'listening again')
  t.ok(wakes > woken, 'woken once back, for what committed meanwhile')
  t.ok(logs.some((l) => l.includes('outbox listener is back')))
  const again = wakes
  await notify()
  t.ok(await eventually(() => wakes > again, 5000), 'NOTIFY works again')
})
