import { sql, type Insertable, type Kysely, type Transaction } from 'kysely'
import type { ClaimedJob, Clock, JobDraft, Page, Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { pageOf } from '../storage/cursor.js'
import type { Database, JobTable } from '../storage/tables.js'

export const defaultMaxAttempts = 10
export const jobStatuses = ['pending', 'running', 'succeeded', 'dead'] as const
export type JobStatus = (typeof jobStatuses)[number]

/** A job row as /v1/jobs shows it: the sealed part is never listed. */
export interface JobView {
  id: string
  kind: string
  accountId: string | null
  payload: Record<string, unknown>
  status: JobStatus
  attempts: number
  maxAttempts: number
  runAt: Date
  lastError: string | null
  createdAt: Date
  updatedAt: Date
}

interface Deps { clock: Clock, random: Random, secrets: SecretBox }

/** A job draft as a jobs row: its secret part sealed, stamped now, due at `runAt` or now. */
export function jobRow (deps: Deps, draft: JobDraft): Insertable<JobTable> {
  const now = deps.clock.now()
  return {
    id: deps.random.uuid(),
    kind: draft.kind,
    account_id: draft.accountId ?? null,
    payload: JSON.stringify(draft.payload ?? {}),
    secret_encrypted: draft.secret === undefined ? null : deps.secrets.seal(JSON.stringify(draft.secret)),
    max_attempts: draft.maxAttempts ?? defaultMaxAttempts,
    run_at: draft.runAt ?? now,
    dedupe_key: draft.dedupeKey ?? null,
    created_at: now,
    updated_at: now
  }
}

/**
 * Inserts a job in the caller's transaction (or its own statement). A job with a dedupe key
 * that exists already is not inserted again: false.
 */
export async function insertJob (q: Kysely<Database> | Transaction<Database>, deps: Deps, draft: JobDraft): Promise<boolean> {
  const row = await q.insertInto('jobs').values(jobRow(deps, draft))
    .onConflict((oc) => oc.column('dedupe_key').doNothing()).returning('id').executeTakeFirst()
  return row !== undefined
}

/**
 * Claims up to `limit` due jobs of the given kinds in ONE statement: SKIP LOCKED lets
 * concurrent claimers pass over each other, the update takes a lease and counts the attempt.
 * A `running` row whose lease ran out (its worker died) is due again. Counting at claim
 * time means a job that kills its worker still ends dead after its last attempt.
 */
export async function claimJobs (
  db: Kysely<Database>, secrets: SecretBox, owner: string, now: Date, options: { limit: number, leaseMs: number, kinds: string[] }
): Promise<ClaimedJob[]> {
  if (options.kinds.length === 0) return []
  const until = new Date(now.getTime() + options.leaseMs)
  const { rows } = await sql<{ id: string, kind: string, account_id: string | null, payload: Record<string, unknown>, secret_encrypted: string | null, attempts: number, max_attempts: number }>`
    with due as (
      select id from jobs
      where status in ('pending', 'running') and run_at <= ${now}
        and (lease_expires_at is null or lease_expires_at <= ${now})
        and kind in (${sql.join(options.kinds)})
      order by run_at, id
      limit ${options.limit}
      for update skip locked
    )
    update jobs j
    set status = 'running', lease_owner = ${owner}, lease_expires_at = ${until}, attempts = j.attempts + 1, updated_at = ${now}
    from due where j.id = due.id
    returning j.id, j.kind, j.account_id, j.payload, j.secret_encrypted, j.attempts, j.max_attempts`.execute(db)
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    accountId: r.account_id,
    payload: typeof r.payload === 'string' ? JSON.parse(r.payload) as Record<string, unknown> : r.payload,
    secret: r.secret_encrypted === null ? undefined : JSON.parse(secrets.open(r.secret_encrypted)) as Record<string, unknown>,
    attempt: Number(r.attempts),
    maxAttempts: Number(r.max_attempts)
  }))
}

export type JobResult =
  | { status: 'succeeded' }
  | { status: 'pending', runAt: Date, error: string }
  | { status: 'dead', error: string }

/**
 * Records one attempt's result, only while this worker still holds the lease for this very
 * attempt (owner and attempt number): a worker that lost its lease cannot overwrite the
 * result of the one that took over. False when nothing was written. A finished job drops its
 * sealed part: the grant code or config it carried is not kept longer than needed.
 */
export async function recordJob (db: Kysely<Database>, job: ClaimedJob, owner: string, result: JobResult, now: Date): Promise<boolean> {
  const row = await db.updateTable('jobs').set({
    status: result.status,
    run_at: result.status === 'pending' ? result.runAt : now,
    last_error: result.status === 'succeeded' ? null : result.error.slice(0, 1000),
    lease_owner: null,
    lease_expires_at: null,
    updated_at: now,
    ...(result.status === 'pending' ? {} : { secret_encrypted: null }),
    // A dead job lets its dedupe key go, so the same work may be asked for again.
    ...(result.status === 'dead' ? { dedupe_key: null } : {})
  }).where('id', '=', job.id).where('lease_owner', '=', owner).where('attempts', '=', job.attempt)
    .returning('id').executeTakeFirst()
  return row !== undefined
}

export async function listJobs (
  db: Kysely<Database>, filter: { status?: JobStatus, kind?: string, accountId?: string }, page: { limit: number, after?: string }
): Promise<Page<JobView>> {
  let q = db.selectFrom('jobs').select(['id', 'kind', 'account_id', 'payload', 'status', 'attempts', 'max_attempts', 'run_at', 'last_error', 'created_at', 'updated_at'])
  if (filter.status) q = q.where('status', '=', filter.status)
  if (filter.kind) q = q.where('kind', '=', filter.kind)
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId)
  if (page.after) q = q.where('id', '>', page.after)
  const rows = await q.orderBy('id').limit(page.limit + 1).execute()
  return pageOf(rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    accountId: r.account_id,
    payload: r.payload,
    status: r.status as JobStatus,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAt: new Date(r.run_at),
    lastError: r.last_error,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at)
  })), page.limit)
}
