import type { Services } from '../services.js'
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './delivery.worker.js'

/** The delivery worker wired to the process's services (gateway or `marketgate worker`). */
export function createWebhookWorker (services: Services, options: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
  return createDeliveryWorker({
    db: services.db,
    clock: services.clock,
    random: services.random,
    secrets: services.secrets,
    logger: services.logger,
    metrics: services.metrics,
    engine: services.database.engine,
    databaseUrl: services.database.url,
    ...(services.database.listen ? { listen: services.database.listen } : {})
  }, { timeoutMs: services.config.webhookTimeoutMs, batchSize: services.config.webhookConcurrency, ...options })
}
