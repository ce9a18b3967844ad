import type { Attachment, LifecycleTx } from './ports.js'

/**
 * Background jobs: slow, retryable calls to a marketplace (Heroku's Platform API) kept as
 * rows, so "the change committed" implies "the job exists", and a crash loses nothing.
 */
export interface JobDraft {
  /** `heroku.exchange_grant`, … : which handler runs it. */
  kind: string
  accountId?: string | null
  /** Plain facts, visible in /v1/jobs. */
  payload?: Record<string, unknown>
  /** Credentials the job needs (a grant code, config values): sealed at rest, never listed. */
  secret?: Record<string, unknown>
  /** A job that must exist once: a second enqueue with the same key does nothing. */
  dedupeKey?: string
  runAt?: Date
  maxAttempts?: number
}

/**
 * A job for an account that does not exist yet (`ExecuteOptions.attachOnCreate`): its account
 * is the one it is written with, so the dedupe key, which usually names the account, is made
 * from that account's id when the storage writes the row.
 */
export interface AttachedJobDraft extends Omit<JobDraft, 'accountId' | 'dedupeKey'> {
  dedupeKey?: (accountId: string) => string
}

export interface JobQueue {
  /** Enqueues inside a lifecycle change (`ExecuteOptions.within`): it commits with it. False for a dedupe hit. */
  enqueueWithin(tx: LifecycleTx, job: JobDraft): Promise<boolean>
  /** A job written together with a new account, by the account's own write (no transaction of its own). */
  prepare(job: AttachedJobDraft): Attachment
  /** Enqueues in its own transaction. False for a dedupe hit. */
  enqueue(job: JobDraft): Promise<boolean>
  /** A latency hint after a commit that enqueued jobs: the local worker looks now, not at its next poll. */
  wake(): void
}

/** A job as a handler receives it, under this worker's lease. */
export interface ClaimedJob {
  id: string
  kind: string
  accountId: string | null
  payload: Record<string, unknown>
  secret: Record<string, unknown> | undefined
  /** 1 for the first attempt. */
  attempt: number
  maxAttempts: number
}

/**
 * What one attempt came to. `retry` is transient (5xx, 429, network): again after backoff,
 * no sooner than `retryAfterMs` when the remote asked; `failed` is permanent (a 4xx that
 * will not change): the job is dead at once. A handler that throws counts as `retry`.
 */
export type JobOutcome =
  | { status: 'done' }
  | { status: 'retry', error: string, retryAfterMs?: number }
  | { status: 'failed', error: string }

export interface JobHandler {
  run(job: ClaimedJob): Promise<JobOutcome>
  /** Capped exponential backoff with equal jitter between attempts. */
  backoff?: { baseMs: number, capMs: number }
}

export type JobHandlers = Record<string, JobHandler>

/** OAuth tokens a marketplace granted for one account (Heroku's per-resource grant). */
export interface OAuthTokens {
  accessToken: string
  refreshToken: string
  expiresAt: Date
}

/** Tokens sealed at rest, one set per account. */
export interface OAuthTokenStore {
  get(accountId: string): Promise<OAuthTokens | undefined>
  save(accountId: string, tokens: OAuthTokens): Promise<void>
}
