import { hostname } from 'node:os'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { equalJitterBackoff, type ClaimedJob, type Clock, type JobHandlers, type JobOutcome, type Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { counterOn } from '../http/metrics.js'
import type { Database } from '../storage/tables.js'
import { isDatabaseUnavailable } from '../storage/unavailable.js'
import { logFailure, logRecovered, retryWhileUnavailable } from '../workers/backoff.js'
import { createPollingLoop } from '../workers/idle.js'
import { claimJobs, recordJob, type JobResult } from './job.store.js'

/** Default backoff: 5 s, 10 s, 20 s … capped at 30 min (each half fixed, half random). */
export const defaultBackoff = { baseMs: 5000, capMs: 30 * 60_000 }
/** A remote's Retry-After is honoured up to this; longer asks are clamped, not obeyed blindly. */
export const retryAfterCapMs = 60 * 60_000

export interface JobWorkerDeps {
  db: Kysely<Database>
  clock: Clock
  random: Random
  secrets: SecretBox
  logger: Logger
  metrics: Registry
  handlers: JobHandlers
  /** A number in [0, 1) for jitter; defaults to one from `random`. */
  fraction?: () => number
}

export interface JobWorkerOptions {
  workerId?: string
  /** Longer than any handler's HTTP timeouts, so a live worker never loses its lease. */
  leaseMs?: number
  batchSize?: number
  pollMs?: number
}

export interface JobWorker {
  readonly id: string
  /** Claims the due jobs, runs them, records the results. Returns how many it ran. */
  runOnce(): Promise<number>
  /** Runs `runOnce` until nothing is due (tests: "drain what is due now"). */
  drain(maxRounds?: number): Promise<number>
  /** Look now instead of at the next poll. */
  wake(): void
  start(): void
  stop(): Promise<void>
}

/**
 * The job worker: claim (one statement, SKIP LOCKED, leased), run each handler outside any
 * transaction, record each result fenced by the lease. Transient failures come back after
 * capped exponential backoff with equal jitter (never sooner than a 429's Retry-After);
 * permanent ones, and the last allowed attempt, end `dead`, listed at /v1/jobs?status=dead.
 */
export function createJobWorker (deps: JobWorkerDeps, options: JobWorkerOptions = {}): JobWorker {
  const { db, clock, random, handlers } = deps
  const id = options.workerId ?? `${hostname()}:${process.pid}:${random.uuid().slice(-8)}`
  const logger = deps.logger.child({ component: 'job-worker', worker: id })
  const leaseMs = options.leaseMs ?? 5 * 60_000
  const batchSize = options.batchSize ?? 10
  const pollMs = options.pollMs ?? 1000
  const kinds = Object.keys(handlers)
  const fraction = deps.fraction ?? (() => Buffer.from(random.bytes(4)).readUInt32BE() / 2 ** 32)
  const outcomes = counterOn(deps.metrics, 'marketgate_jobs_total', 'Job attempts by kind and outcome', ['kind', 'outcome'] as const)

  function resultOf (job: ClaimedJob, outcome: JobOutcome): JobResult {
    if (outcome.status === 'done') return { status: 'succeeded' }
    if (outcome.status === 'failed') return { status: 'dead', error: outcome.error }
    if (job.attempt >= job.maxAttempts) return { status: 'dead', error: `${outcome.error} (gave up after ${job.attempt} attempts)` }
    const backoff = handlers[job.kind]?.backoff ?? defaultBackoff
    const delay = Math.max(equalJitterBackoff(job.attempt, backoff, fraction()), Math.min(outcome.retryAfterMs ?? 0, retryAfterCapMs))
    return { status: 'pending', runAt: new Date(clock.now().getTime() + delay), error: outcome.error }
  }

  async function runJob (job: ClaimedJob): Promise<void> {
    let outcome: JobOutcome
    if (job.attempt > job.maxAttempts) {
      // Its last attempt's worker died mid-way; the lease ran out.
      outcome = { status: 'failed', error: 'the last attempt did not finish (lease expired)' }
    } else {
      try {
        outcome = await handlers[job.kind]!.run(job)
      } catch (err) {
        outcome = { status: 'retry', error: `unexpected: ${(err as Error).message ?? String(err)}` }
        logger.error({ err, job: job.id, kind: job.kind }, 'job handler threw')
      }
    }
    const result = resultOf(job, outcome)
    // Retried while the database is away (fenced by the lease, so late is safe): a job whose
    // result is lost runs again when its lease ends, and a Platform API call is not free.
    const recorded = await retryWhileUnavailable(() => recordJob(db, job, id, result, clock.now()), { forMs: leaseMs, signal: stopSignal.signal, random: fraction })
    const label = recorded ? result.status : 'lease_lost'
    outcomes.inc({ kind: job.kind, outcome: label })
    const log = { job: job.id, kind: job.kind, account: job.accountId, attempt: job.attempt, outcome: label }
    if (result.status === 'succeeded') logger.debug(log, 'job done')
    else if (result.status === 'dead') logger.warn({ ...log, error: result.error }, 'job is dead')
    else logger.info({ ...log, error: result.error, next: result.runAt.toISOString() }, 'job will retry')
  }

  async function runOnce (): Promise<number> {
    const claimed = await claimJobs(db, deps.secrets, id, clock.now(), { limit: batchSize, leaseMs, kinds })
    await Promise.all(claimed.map((job) => runJob(job).catch((err: unknown) => {
      // The lease runs out and the job comes back: nothing is lost.
      if (isDatabaseUnavailable(err)) logger.warn({ reason: (err as Error).message, job: job.id }, 'job result could not be recorded: the database is unavailable; it will run again')
      else logger.error({ err, job: job.id }, 'job result could not be recorded')
    })))
    return claimed.length
  }

  const stopSignal = new AbortController()
  const polling = createPollingLoop({
    pollMs,
    batchSize,
    runOnce,
    random: fraction,
    onError: (err, streak, retryInMs) => logFailure(logger, err, streak, retryInMs, 'claiming jobs failed; retrying'),
    onRecovered: (failures) => logRecovered(logger, failures, 'claiming jobs works again')
  })

  return {
    id,
    runOnce,
    async drain (maxRounds = 20) {
      let total = 0
      for (let round = 0; round < maxRounds; round++) {
        const n = await runOnce()
        if (n === 0) break
        total += n
      }
      return total
    },
    wake: polling.wake,
    start () {
      if (polling.start()) logger.info({ pollMs, leaseMs, kinds }, 'job worker started')
    },
    stop: () => { stopSignal.abort(); return polling.stop() }
  }
}
