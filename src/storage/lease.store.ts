import { sql, type Kysely } from 'kysely'
import type { Clock, LeaseStore } from '../../core/index.js'
import type { Database } from './tables.js'

/**
 * Leases as rows rather than `pg_try_advisory_lock`: an advisory lock lives on one connection,
 * and the job holding it runs its own transactions — on PGlite's single connection that would
 * queue behind itself. A row with an expiry works on both engines and survives a dead holder.
 */
export function createLeaseStore (deps: { db: Kysely<Database>, clock: Clock }): LeaseStore {
  const { db, clock } = deps
  return {
    async tryAcquire (name, owner, ttlMs) {
      const now = clock.now()
      const expires = new Date(now.getTime() + ttlMs)
      const row = await db.insertInto('job_leases').values({ name, owner, expires_at: expires })
        .onConflict((oc) => oc.column('name').doUpdateSet({ owner, expires_at: expires })
          .where(sql<boolean>`job_leases.expires_at <= ${now} or job_leases.owner = ${owner}`))
        .returning('name').executeTakeFirst()
      return row !== undefined
    },
    async release (name, owner) {
      await db.deleteFrom('job_leases').where('name', '=', name).where('owner', '=', owner).execute()
    }
  }
}
