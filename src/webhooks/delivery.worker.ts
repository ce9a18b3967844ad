import { hostname } from 'node:os'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { decide, type Clock, type Decision, type Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Engine } from '../storage/database.js'
import type { Database } from '../storage/tables.js'
import { isDatabaseUnavailable } from '../storage/unavailable.js'
import { logFailure, logRecovered, retryWhileUnavailable } from '../workers/backoff.js'
import { createPipeline } from '../workers/pipeline.js'
import { claimDue, type ClaimedDelivery } from './delivery.claim.js'
import { recordAttempt, recordSuccesses, type AttemptRecord } from './delivery.record.js'
import { deliveryMetrics } from './delivery.metrics.js'
import { createSender, type Sender } from './delivery.sender.js'
import { createDeliveryStore } from './delivery.store.js'
import { signingSecrets } from './endpoint.store.js'
import { listenForOutbox, listenInProcess, type OutboxListener } from './outbox.listener.js'
import { webhookBody } from './webhook.body.js'
import { rememberingOpener, signatureHeaders } from './webhook.signer.js'

export interface DeliveryWorkerDeps {
  db: Kysely<Database>
  clock: Clock
  random: Random
  secrets: SecretBox
  logger: Logger
  metrics: Registry
  engine: Engine
  /** Postgres URL for LISTEN on a connection of the worker's own. */
  databaseUrl: string | null
  /** The embedded engine's in-process LISTEN; with neither, the worker only polls. */
  listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>
  /** Replaces the undici sender (tests); else one is made with `timeoutMs`. */
  sender?: Sender
  /** A number in [0, 1) for jitter; defaults to one from `random`. */
  fraction?: () => number
}

export interface DeliveryWorkerOptions {
  timeoutMs: number
  workerId?: string
  /** Longer than the timeout plus the recording, so a live worker never loses its lease. */
  leaseMs?: number
  /** Most attempts in flight at once when running; the size of one `runOnce` round. */
  batchSize?: number
  /** Polling interval: the truth when a NOTIFY is missed. */
  pollMs?: number
}

export interface DeliveryWorker {
  readonly id: string
  /** Claims what is due now, attempts it, records the results. Returns how many it attempted. */
  runOnce(): Promise<number>
  start(): void
  /** Stops claiming, lets attempts in flight finish (each bounded by the timeout), closes connections. */
  stop(): Promise<void>
}

/**
 * The webhook delivery worker: claim (one statement, SKIP LOCKED, leased), then sign and POST
 * outside any transaction, then record the results fenced by the lease.
 */
export function createDeliveryWorker (deps: DeliveryWorkerDeps, options: DeliveryWorkerOptions): DeliveryWorker {
  const { db, clock, random, secrets } = deps
  const id = options.workerId ?? `${hostname()}:${process.pid}:${random.uuid().slice(-8)}`
  const logger = deps.logger.child({ component: 'webhook-worker', worker: id })
  const leaseMs = options.leaseMs ?? Math.max(60_000, options.timeoutMs * 2 + 10_000)
  const batchSize = options.batchSize ?? 100
  const pollMs = options.pollMs ?? 1000
  const sender = deps.sender ?? createSender({ timeoutMs: options.timeoutMs })
  const store = createDeliveryStore({ db, clock, random })
  const metrics = deliveryMetrics(deps.metrics)
  const opener = rememberingOpener(secrets)
  const fraction = deps.fraction ?? (() => Buffer.from(random.bytes(4)).readUInt32BE() / 2 ** 32)

  /** Signs and sends one claimed delivery; nothing is written yet. */
  async function send (claimed: ClaimedDelivery): Promise<{ claimed: ClaimedDelivery, attempt: AttemptRecord, decision: Decision }> {
    const ctx = claimed.context
    let source = ctx.source
    if (source.account === undefined && ctx.accountId !== null) source = { ...source, account: await store.accountNow(ctx.accountId) }
    const at = clock.now()
    const body = webhookBody(source)
    const headers = signatureHeaders(source.id, at, body, signingSecrets(opener, ctx.endpoint, at))
    const sent = await sender.send({ url: ctx.endpoint.url, headers, body })
    const decision = decide({ result: sent.result, attempt: claimed.attempt, now: clock.now(), random: fraction() })
    return { claimed, decision, attempt: { id: random.uuid(), at, durationMs: sent.durationMs, statusCode: sent.statusCode, excerpt: sent.excerpt, error: sent.error } }
  }

  function report (claimed: ClaimedDelivery, attempt: AttemptRecord, decision: Decision, outcome: string): void {
    metrics.outcomes.inc({ outcome })
    metrics.latency.observe({ outcome: decision.action === 'succeeded' ? 'succeeded' : 'failed' }, attempt.durationMs / 1000)
    const log = { delivery: claimed.id, event: claimed.eventId, endpoint: claimed.endpointId, attempt: claimed.attempt, status: attempt.statusCode, outcome }
    if (outcome === 'succeeded') logger.debug(log, 'webhook delivered')
    else logger.info({ ...log, error: attempt.error, next: decision.action === 'retry' ? decision.at.toISOString() : undefined }, 'webhook attempt failed')
  }

  type Sent = Awaited<ReturnType<typeof send>>

  // Aborted by stop: a recording waiting out an outage gives up (the lease brings it back).
  const stopSignal = new AbortController()
  /** A result write, retried while the database is away for up to the lease (fenced, so late is safe). */
  const durably = <T>(write: () => Promise<T>) => retryWhileUnavailable(write, { forMs: leaseMs, signal: stopSignal.signal, random: fraction })

  /**
   * Records results together: every success in one statement, then each failure in its own
   * transaction. Successes first, so that within a group the failures' streak stands.
   */
  async function record (results: Sent[]): Promise<void> {
    const successes = results.filter((r) => r.decision.action === 'succeeded')
    const failures = results.filter((r) => r.decision.action !== 'succeeded')
    let recorded: Set<string> | undefined
    try {
      recorded = await durably(() => recordSuccesses(db, { clock, random }, id, successes.map((r) => ({ claimed: r.claimed, attempt: r.attempt }))))
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        // Still away after retrying for the lease (or stopping): one by one would not do better.
        logger.warn({ reason: (err as Error).message, deliveries: results.length }, 'webhook results could not be recorded: the database is unavailable; they will be sent again')
        return
      }
      // One statement for the group: if it fails (a deadlock with an endpoint being disabled,
      // a row the database refuses), each success is recorded alone, so one cannot hold back
      // the others (unrecorded, they would be sent again when their leases run out).
      logger.warn({ err, deliveries: successes.length }, 'recording a group of webhook successes failed; recording them one by one')
    }
    for (const r of successes) {
      if (recorded !== undefined) report(r.claimed, r.attempt, r.decision, recorded.has(r.claimed.id) ? 'succeeded' : 'lease_lost')
      else await recordOne(r)
    }
    // Failures one after another: they are few, and a group must not take the whole pool.
    for (const r of failures) await recordOne(r)
  }

  async function recordOne (r: Sent): Promise<void> {
    try {
      const recorded = await durably(() => recordAttempt(db, { clock, random }, r.claimed, id, r.attempt, r.decision))
      const outcome = !recorded.recorded ? 'lease_lost' : recorded.endpointDisabled ? 'endpoint_disabled'
        : r.decision.action === 'succeeded' ? 'succeeded' : r.decision.action === 'retry' ? 'retrying' : 'dead'
      report(r.claimed, r.attempt, r.decision, outcome)
    } catch (err) {
      if (isDatabaseUnavailable(err)) logger.warn({ reason: (err as Error).message, delivery: r.claimed.id }, 'webhook attempt could not be recorded: the database is unavailable; it will be sent again')
      else logger.error({ err, delivery: r.claimed.id }, 'webhook attempt could not be recorded; it will be sent again')
    }
  }

  const claim = (limit: number) => claimDue(db, id, clock.now(), { limit, leaseMs })

  /** One round, to the end (tests and tools): claim, send all at once, record. */
  async function runOnce (): Promise<number> {
    const claimed = await claim(batchSize)
    const results = await Promise.all(claimed.map((c) => send(c).catch((err: unknown) => {
      // Not sent and not recorded: the lease runs out and the delivery comes back.
      logger.error({ err, delivery: c.id }, 'webhook attempt could not be processed')
      return undefined
    })))
    await record(results.filter((r) => r !== undefined))
    return claimed.length
  }

  // Running: up to `batchSize` deliveries in flight, claimed and recorded continuously.
  const pipeline = createPipeline<ClaimedDelivery, Sent>({
    capacity: batchSize,
    pollMs,
    claim,
    work: send,
    record,
    random: fraction,
    onError: (err, stage, streak) => {
      if (streak !== undefined) logFailure(logger, err, streak.streak, streak.retryInMs, 'claiming webhook deliveries failed; retrying')
      else if (isDatabaseUnavailable(err)) logger.warn({ stage, reason: (err as Error).message }, 'a webhook delivery could not be processed: the database is unavailable; its lease will bring it back')
      else logger.error({ err, stage }, 'a webhook delivery could not be processed; its lease will bring it back')
    },
    onRecovered: (failures) => logRecovered(logger, failures, 'claiming webhook deliveries works again')
  })
  let listener: OutboxListener | undefined
  let stopping: Promise<void> | undefined

  return {
    id,
    runOnce,
    start () {
      if (stopping !== undefined || !pipeline.start()) return
      if (deps.engine === 'postgres' && deps.databaseUrl !== null) listener = listenForOutbox(deps.databaseUrl, pipeline.wake, logger)
      else if (deps.listen !== undefined) listener = listenInProcess(deps.listen, pipeline.wake, logger)
      logger.info({ pollMs, leaseMs, listen: listener !== undefined }, 'webhook worker started')
    },
    stop () {
      stopping ??= (async () => {
        stopSignal.abort()
        await pipeline.stop()
        await listener?.close()
        await sender.close()
      })()
      return stopping
    }
  }
}
