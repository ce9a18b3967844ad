import t from 'tap'
import { createTestDatabase, onPostgres } from '../../helpers/database.js'
import { PreparingClient, preparedPerConnection } from '../../../src/storage/prepared.js'

const skip = onPostgres ? false : 'prepared statements are a Postgres connection feature'

async function client (t: { teardown(fn: () => unknown): void }) {
  const database = await createTestDatabase()
  t.teardown(() => database.close())
  const c = new PreparingClient({ connectionString: database.url! })
  await c.connect()
  t.teardown(() => c.end())
  const prepared = async () => Number((await c.query('select count(*) as n from pg_prepared_statements')).rows[0].n)
  return { c, prepared }
}

t.test('a parameterized statement is prepared once on its connection and answers as before', { skip }, async (t) => {
  const { c, prepared } = await client(t)
  const first = await c.query('select $1::int + 1 as n', [41])
  const again = await c.query('select $1::int + 1 as n', [1])
  t.same([first.rows, again.rows], [[{ n: 42 }], [{ n: 2 }]])
  t.equal(await prepared(), 1, 'one statement, prepared once')
  await c.query('select $1::text as s', ['x'])
  t.equal(await prepared(), 2)
  await c.query('select 1')
  t.equal(await prepared(), 2, 'a statement without parameters is not prepared')
})

t.test('a connection prepares a bounded number of texts; the rest still run', { skip }, async (t) => {
  const { c, prepared } = await client(t)
  for (let i = 0; i < preparedPerConnection + 20; i++) {
    const r = await c.query(`select $1::int + ${i} as n`, [1])
    t.equal(r.rows[0].n, i + 1)
  }
  t.equal(await prepared(), preparedPerConnection)
})

t.test('a migration that changes a statement\'s result fails that query once, then the connection runs unprepared', { skip }, async (t) => {
  const { c, prepared } = await client(t)
  await c.query('create table widgets (id int primary key)')
  await c.query('insert into widgets values (1)')
  t.same((await c.query('select * from widgets where id = $1', [1])).rows, [{ id: 1 }])
  // Another instance migrates: the prepared `select *` no longer has the columns it planned.
  await c.query('alter table widgets add column name text default \'w\'')
  await t.rejects(c.query('select * from widgets where id = $1', [1]), { code: '0A000' })
  t.same((await c.query('select * from widgets where id = $1', [1])).rows, [{ id: 1, name: 'w' }], 'the next call works')
  const before = await prepared()
  await c.query('select $1::int as n', [7])
  t.equal(await prepared(), before, 'nothing new is prepared on this connection')
})
