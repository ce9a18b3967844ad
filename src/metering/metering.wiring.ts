import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering'
import type { Services } from '../services.js'
import { createLeaseStore } from '../storage/lease.store.js'
import { createMeteringJob, type MeteringJob } from './metering.job.js'
import { createUsageIngest, type UsageIngest } from './usage.ingest.js'

/** How often each instance tries the metering lease; the job itself runs on one at a time. */
export const meteringEveryMs = 60_000

export function createUsageIngestFromServices (services: Services): UsageIngest {
  return createUsageIngest({ db: services.db, clock: services.clock, random: services.random, dimensions: services.config.aws?.meteringDimensions, product: services.config.productId })
}

/** The metering job wired to this gateway; `client` lets tests point it at a fake. */
export function createMeteringFromServices (services: Services, options: { client?: MarketplaceMeteringClient, owner?: string } = {}): MeteringJob & { close(): void } {
  const aws = services.config.aws
  if (aws === undefined) throw new Error('AWS is not configured')
  const client = options.client ?? new MarketplaceMeteringClient({ region: aws.region })
  const job = createMeteringJob({
    db: services.db,
    clock: services.clock,
    random: services.random,
    leases: createLeaseStore({ db: services.db, clock: services.clock }),
    // Endpoint and credentials from the SDK's own conventions (AWS_ENDPOINT_URL…).
    client,
    productCode: aws.productCode,
    dimensions: aws.meteringDimensions,
    logger: services.logger.child({ component: 'metering' }),
    metrics: services.metrics,
    owner: options.owner ?? `${hostname()}:${process.pid}:${services.random.uuid()}`
  })
  // A client made here is released here; one passed in belongs to the caller.
  return { ...job, close: () => { if (options.client === undefined) client.destroy() } }
}

export function startMeteringWorker (services: Services): () => Promise<void> {
  const job = createMeteringFromServices(services)
  const log = services.logger.child({ component: 'metering' })
  const stopping = new AbortController()
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      await job.runOnce().catch((err: unknown) => log.warn({ err }, 'metering run failed'))
      await sleep(meteringEveryMs, undefined, { signal: stopping.signal }).catch(() => {})
    }
  })()
  return async () => { stopping.abort(); await loop; job.close() }
}
