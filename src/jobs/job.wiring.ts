import type { JobHandlers } from '../../core/index.js'
import { herokuPlatformRuntime } from '../heroku.wiring.js'
import type { Services } from '../services.js'
import { createJobWorker, type JobWorker, type JobWorkerDeps, type JobWorkerOptions } from './job.worker.js'

/** Every job kind this gateway can run, by provider. */
export function jobHandlersOf (services: Services): JobHandlers {
  return { ...herokuPlatformRuntime(services)?.handlers }
}

/**
 * The job worker wired to the process's services; the queue's wake-ups (a provision that
 * queued a grant exchange, say) reach it at once instead of at its next one-second poll.
 */
export function createJobWorkerFromServices (
  services: Services, options: JobWorkerOptions = {}, overrides: Partial<Pick<JobWorkerDeps, 'fraction' | 'handlers'>> = {}
): JobWorker & { detach(): void } {
  const worker = createJobWorker({
    db: services.db,
    clock: services.clock,
    random: services.random,
    secrets: services.secrets,
    logger: services.logger,
    metrics: services.metrics,
    handlers: overrides.handlers ?? jobHandlersOf(services),
    fraction: overrides.fraction
  }, options)
  const detach = services.jobs.onWake(() => worker.wake())
  return { ...worker, detach }
}

/** Starts the job worker; the returned function stops it. */
export function startJobWorker (services: Services): () => Promise<void> {
  const worker = createJobWorkerFromServices(services)
  worker.start()
  return async () => { worker.detach(); await worker.stop() }
}
