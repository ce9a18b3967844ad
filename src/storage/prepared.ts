import { createHash } from 'node:crypto'
import pg from 'pg'

/** Most statements one connection keeps prepared; beyond it, new texts run unprepared. */
export const preparedPerConnection = 256

/**
 * Postgres's answer when a prepared statement's result columns changed under it (a migration
 * added a column to a `returning *` table while an older instance kept running).
 */
// By code, not message: the message is translated under a non-English lc_messages. For a
// prepared statement, 0A000 (feature not supported) means this; anything else it could mean
// only costs the preparing.
const planChanged = (err: unknown) => (err as { code?: string })?.code === '0A000'

type Query = (...args: unknown[]) => unknown

/**
 * A pg client that prepares each parameterized statement once per connection. Kysely sends
 * the same texts again and again and pg re-parses and re-plans every unnamed one; the
 * lifecycle's statements are long CTEs, so planning is a large share of the database's work
 * (a fresh provision cost Postgres about 40 % less CPU once prepared, measured with
 * `npm run bench`). pg prepares a query that carries a `name`; Kysely passes none, so this
 * names each statement after its text. pg keeps no library-level statement cache for Kysely
 * to use, hence these few lines.
 *
 * Bounded: a prepared statement lives as long as its connection and batch statements vary in
 * length, so a connection prepares at most `preparedPerConnection` texts. Safe across
 * rolling migrations: when Postgres reports that a statement's result type changed, that
 * query fails once (its transaction is rolled back) and the connection stops preparing,
 * so it never fails that way again. Behind a transaction-pooling PgBouncer, turn it off
 * (DATABASE_PREPARED_STATEMENTS=off) unless it is 1.21 or newer with max_prepared_statements set.
 */
export class PreparingClient extends pg.Client {
  constructor (config?: string | pg.ClientConfig) {
    super(config)
    const base = super.query.bind(this) as Query
    // Text → statement name: a text seen before is not hashed again.
    const named = new Map<string, string>()
    let enabled = true
    const query: Query = (...args) => {
      const [text, values] = args
      if (enabled && args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0) {
        let name = named.get(text)
        if (name === undefined && named.size < preparedPerConnection) {
          name = `mg_${createHash('sha1').update(text).digest('base64url')}`
          named.set(text, name)
        }
        if (name !== undefined) {
          return (base({ name, text, values }) as Promise<unknown>).catch((err: unknown) => {
            if (planChanged(err)) enabled = false
            throw err
          })
        }
      }
      return base(...args)
    }
    this.query = query as pg.Client['query']
  }
}
