import { hostname } from 'node:os'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { decide, type Clock, type Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Engine } from '../storage/database.js'
import type { Database } from '../storage/tables.js'
import { createPollingLoop } from '../workers/idle.js'
import { claimDue, recordAttempt, type ClaimedDelivery } from './delivery.claim.js'
import { deliveryMetrics } from './delivery.metrics.js'
import { createSender, type Sender } from './delivery.sender.js'
import { createDeliveryStore } from './delivery.store.js'
import { signingSecrets } from './endpoint.store.js'
import { listenForOutbox, type OutboxListener } from './outbox.listener.js'
import { webhookBody } from './webhook.body.js'
import { signatureHeaders } from './webhook.signer.js'

export interface DeliveryWorkerDeps {
  db: Kysely<Database>
  clock: Clock
  random: Random
  secrets: SecretBox
  logger: Logger
  metrics: Registry
  engine: Engine
  /** Postgres URL for LISTEN; without it (PGlite) the worker only polls. */
  databaseUrl: string | null
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
  batchSize?: number
  /** Polling interval: the truth when NOTIFY is missed, and the only wake-up on PGlite. */
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
 * outside any transaction, then record each result in a short transaction fenced by the lease.
 */
export function createDeliveryWorker (deps: DeliveryWorkerDeps, options: DeliveryWorkerOptions): DeliveryWorker {
  const { db, clock, random, secrets } = deps
  const id = options.workerId ?? `${hostname()}:${process.pid}:${random.uuid().slice(-8)}`
  const logger = deps.logger.child({ component: 'webhook-worker', worker: id })
  const leaseMs = options.leaseMs ?? Math.max(60_000, options.timeoutMs * 2 + 10_000)
  const batchSize = options.batchSize ?? 10
  const pollMs = options.pollMs ?? 1000
  const sender = deps.sender ?? createSender({ timeoutMs: options.timeoutMs })
  const store = createDeliveryStore({ db, clock, random })
  const metrics = deliveryMetrics(deps.metrics)
  const fraction = deps.fraction ?? (() => Buffer.from(random.bytes(4)).readUInt32BE() / 2 ** 32)

  async function attempt (claimed: ClaimedDelivery): Promise<void> {
    const ctx = await store.context(claimed.id)
    if (ctx === undefined) return // its endpoint was deleted meanwhile
    const at = clock.now()
    const body = webhookBody(ctx.source)
    const headers = signatureHeaders(ctx.source.id, at, body, signingSecrets(secrets, ctx.endpoint, at))
    const sent = await sender.send({ url: ctx.endpoint.url, headers, body })
    const decision = decide({ result: sent.result, attempt: claimed.attempt, now: clock.now(), random: fraction() })
    const recorded = await recordAttempt(db, { clock, random }, claimed, id,
      { at, durationMs: sent.durationMs, statusCode: sent.statusCode, excerpt: sent.excerpt, error: sent.error }, decision)
    const outcome = !recorded.recorded ? 'lease_lost' : recorded.endpointDisabled ? 'endpoint_disabled'
      : decision.action === 'succeeded' ? 'succeeded' : decision.action === 'retry' ? 'retrying' : 'dead'
    metrics.outcomes.inc({ outcome })
    metrics.latency.observe({ outcome: decision.action === 'succeeded' ? 'succeeded' : 'failed' }, sent.durationMs / 1000)
    const log = { delivery: claimed.id, event: ctx.source.id, endpoint: ctx.endpoint.id, attempt: claimed.attempt, status: sent.statusCode, outcome }
    if (outcome === 'succeeded') logger.debug(log, 'webhook delivered')
    else logger.info({ ...log, error: sent.error, next: decision.action === 'retry' ? decision.at.toISOString() : undefined }, 'webhook attempt failed')
  }

  async function runOnce (): Promise<number> {
    const claimed = await claimDue(db, id, clock.now(), { limit: batchSize, leaseMs })
    await Promise.all(claimed.map((c) => attempt(c).catch((err: unknown) => {
      // The lease runs out and the delivery comes back: nothing is lost.
      logger.error({ err, delivery: c.id }, 'webhook attempt could not be processed')
    })))
    return claimed.length
  }

  const polling = createPollingLoop({ pollMs, batchSize, runOnce, onError: (err) => logger.error({ err }, 'claiming webhook deliveries failed; retrying') })
  let listener: OutboxListener | undefined
  let stopping: Promise<void> | undefined

  return {
    id,
    runOnce,
    start () {
      if (stopping !== undefined || !polling.start()) return
      if (deps.engine === 'postgres' && deps.databaseUrl !== null) listener = listenForOutbox(deps.databaseUrl, polling.wake, logger)
      logger.info({ pollMs, leaseMs, listen: listener !== undefined }, 'webhook worker started')
    },
    stop () {
      stopping ??= (async () => {
        await polling.stop()
        await listener?.close()
        await sender.close()
      })()
      return stopping
    }
  }
}
