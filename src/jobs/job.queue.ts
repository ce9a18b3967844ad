import type { Kysely } from 'kysely'
import type { Clock, JobQueue, Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { transactionOf } from '../storage/account.store.js'
import { rowAttachment } from '../storage/attachment.js'
import type { Database } from '../storage/tables.js'
import { insertJob, jobRow } from './job.store.js'

export interface LocalJobQueue extends JobQueue {
  /** The local worker's wake-up; `wake()` calls every one registered. */
  onWake(fn: () => void): () => void
}

/**
 * The JobQueue port over the jobs table. `wake` reaches workers of this process only: another
 * instance finds the job at its next poll (about a second), which is what Heroku's minutes-long
 * grant lifetime allows.
 */
export function createJobQueue (deps: { db: Kysely<Database>, clock: Clock, random: Random, secrets: SecretBox }): LocalJobQueue {
  const listeners = new Set<() => void>()
  return {
    enqueueWithin: (tx, job) => insertJob(transactionOf(tx), deps, job),
    enqueue: (job) => insertJob(deps.db, deps, job),
    prepare ({ dedupeKey, ...job }) {
      // Sealed and stamped now; the account, and the dedupe key made from its id, when the
      // account's write knows the id. A dedupe hit skips the job, as insertJob does.
      const row = jobRow(deps, job)
      return rowAttachment('jobs', (accountId) => ({ ...row, account_id: accountId, dedupe_key: dedupeKey?.(accountId) ?? null }), 'dedupe_key')
    },
    wake () { for (const fn of listeners) fn() },
    onWake (fn) {
      listeners.add(fn)
      return () => { listeners.delete(fn) }
    }
  }
}
