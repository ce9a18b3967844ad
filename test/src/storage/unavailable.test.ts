import t from 'tap'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import pg from 'pg'
import { isDatabaseUnavailable } from '../../../src/storage/unavailable.js'
import { toHttpError } from '../../../src/http/error-handler.js'
import { MarketgateError } from '../../../core/index.js'
import { freePort } from '../../helpers/net.js'

/** A pg error as the server sends it: a message and a SQLSTATE. */
const sqlError = (code: string, message = 'server said no') => Object.assign(new Error(message), { code })

t.test('a refused connection, as pg reports it, is the database being unavailable', async (t) => {
  const port = await freePort()
  const client = new pg.Client({ connectionString: `postgres://u:secret@127.0.0.1:${port}/db` })
  const err = await client.connect().then(() => undefined, (e: unknown) => e)
  t.ok(err, 'connecting failed')
  t.equal((err as { code?: string }).code, 'ECONNREFUSED')
  t.ok(isDatabaseUnavailable(err))
})

t.test('a connection cut by the server mid-way is unavailable (pg: Connection terminated unexpectedly)', async (t) => {
  // A "server" that accepts and hangs up at once: pg reads the end of the stream during startup.
  const sockets: Socket[] = []
  const server = createServer((s) => { sockets.push(s); s.destroy() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const client = new pg.Client({ connectionString: `postgres://u@127.0.0.1:${(server.address() as AddressInfo).port}/db` })
  client.on('error', () => {})
  const err = await client.connect().then(() => undefined, (e: unknown) => e)
  t.match((err as Error).message, /Connection terminated|ECONNRESET|read/)
  t.ok(isDatabaseUnavailable(err))
})

t.test('a connect that never completes times out as unavailable', async (t) => {
  const sockets: Socket[] = []
  const server = createServer((s) => { sockets.push(s) }) // accepts, never answers: a frozen database
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(resolve) }))
  const pool = new pg.Pool({ connectionString: `postgres://u@127.0.0.1:${(server.address() as AddressInfo).port}/db`, connectionTimeoutMillis: 100 })
  pool.on('error', () => {})
  const err = await pool.query('select 1').then(() => undefined, (e: unknown) => e)
  void pool.end()
  t.ok(err)
  t.ok(isDatabaseUnavailable(err), (err as Error).message)
})

t.test('SQLSTATEs of an outage are unavailable; a bad statement or a constraint is not', async (t) => {
  for (const code of ['08006', '08001', '08P01', '57P01', '57P02', '57P03', '57014', '53300', '3D000']) {
    t.ok(isDatabaseUnavailable(sqlError(code)), code)
  }
  for (const code of ['23505', '42601', '22P05', '40001', '0A000', '28P01']) {
    t.notOk(isDatabaseUnavailable(sqlError(code)), code)
  }
  t.notOk(isDatabaseUnavailable(new Error('boom')))
  t.notOk(isDatabaseUnavailable(undefined))
  t.notOk(isDatabaseUnavailable('ECONNREFUSED'), 'a string is not an error')
})

t.test("pg's own messages and a query read timeout are unavailable", async (t) => {
  for (const m of ['Connection terminated unexpectedly', 'Connection terminated', 'timeout exceeded when trying to connect', 'Query read timeout', 'Client has encountered a connection error and is not queryable']) {
    t.ok(isDatabaseUnavailable(new Error(m)), m)
  }
})

t.test('an error wrapping an outage (cause, AggregateError) is unavailable; a cycle of causes ends', async (t) => {
  t.ok(isDatabaseUnavailable(new Error('query failed', { cause: sqlError('57P01') })))
  const refused = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })
  t.ok(isDatabaseUnavailable(new AggregateError([refused], '')), 'happy-eyeballs AggregateError')
  const a: Error & { cause?: unknown } = new Error('a')
  const b = new Error('b', { cause: a })
  a.cause = b
  t.notOk(isDatabaseUnavailable(a))
})

t.test('toHttpError answers an outage 503 UNAVAILABLE with Retry-After; other errors keep their status', async (t) => {
  const http = toHttpError(sqlError('57P01', 'terminating connection due to administrator command'))
  t.same(http, { status: 503, code: 'UNAVAILABLE', message: 'the database is unavailable; try again shortly', retryAfterS: 5 })
  t.equal(toHttpError(new MarketgateError('UNAVAILABLE', 'x')).status, 503)
  t.equal(toHttpError(sqlError('23505')).status, 500)
  t.equal(toHttpError(new MarketgateError('NOT_FOUND', 'x', { cause: sqlError('57P01') })).status, 404, 'a code wins over its cause')
})
