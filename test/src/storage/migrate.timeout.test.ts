import t from 'tap'
import pg from 'pg'
import { createTestDatabase, onPostgres } from '../../helpers/database.js'
import { openDatabase } from '../../../src/storage/database.js'
import { migrateWithoutTimeouts } from '../../../src/storage/migrate.js'

// Kysely's Postgres migration lock: a session advisory lock with this id (a transaction lock
// taken on the same id in another session blocks it just the same).
const kyselyLockId = '3853314791062309107'

t.test('migrations wait for another instance\'s migration lock longer than the statement timeout', { skip: onPostgres ? false : 'the embedded engine has no statement timeout and one connection' }, async (t) => {
  const test = await createTestDatabase()
  t.teardown(() => test.close())
  const serving = await openDatabase({ url: test.url!, dataDir: '', statementTimeoutMs: 200 })
  t.teardown(() => serving.close())

  const other = new pg.Client({ connectionString: test.url! })
  await other.connect()
  t.teardown(() => other.end())
  await other.query('begin')
  await other.query(`select pg_advisory_xact_lock(${kyselyLockId})`)

  const migrating = migrateWithoutTimeouts(serving, { url: test.url!, dataDir: '', statementTimeoutMs: 200 })
  // Wait (bounded) until the migration has been blocked on the lock for longer than the serving
  // pool's 200 ms statement timeout, which would have cancelled it.
  const watcher = new pg.Client({ connectionString: test.url! })
  await watcher.connect()
  t.teardown(() => watcher.end())
  let blockedLongEnough = false
  for (let i = 0; i < 200 && !blockedLongEnough; i++) {
    const { rows } = await watcher.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and now() - state_change > interval '600 milliseconds'`)
    blockedLongEnough = rows[0]!.n > 0
    if (!blockedLongEnough) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(blockedLongEnough, 'the migration waited on the lock past the statement timeout')
  await other.query('commit')
  t.same(await migrating, [], 'then it ran (nothing left to apply) instead of failing')
})
