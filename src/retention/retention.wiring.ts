import { hostname } from 'node:os'
import type { Services } from '../services.js'
import { createLeaseStore } from '../storage/lease.store.js'
import { createLoop } from '../workers/idle.js'
import { createRetentionJob, type RetentionJob } from './retention.job.js'

/** How often each instance tries the retention lease; one pass prunes at most 100 batches per kind. */
export const retentionEveryMs = 60 * 60_000

export function createRetentionFromServices (services: Services, options: { owner?: string, batchSize?: number } = {}): RetentionJob {
  return createRetentionJob({
    db: services.db,
    clock: services.clock,
    leases: createLeaseStore({ db: services.db, clock: services.clock }),
    owner: options.owner ?? `${hostname()}:${process.pid}:${services.random.uuid()}`,
    logger: services.logger.child({ component: 'retention' }),
    policy: services.config.retention,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize })
  })
}

/** Starts the hourly retention pass (first pass at start); the returned function stops it. */
export function startRetentionWorker (services: Services): () => Promise<void> {
  const job = createRetentionFromServices(services)
  const log = services.logger.child({ component: 'retention' })
  const loop = createLoop(retentionEveryMs, async (signal, idle) => {
    while (!signal.aborted) {
      await job.runOnce().catch((err: unknown) => log.warn({ err }, 'retention pass failed; trying again next hour'))
      await idle(signal)
    }
  })
  loop.start()
  return () => loop.stop()
}
