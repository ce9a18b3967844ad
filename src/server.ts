import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.js'
import type { Config } from './config.js'
import { createServices, type Services } from './services.js'
import { startAwsWorkers } from './aws.workers.js'
import { startMeteringWorker } from './metering/metering.wiring.js'
import { createWebhookWorker } from './webhooks/webhook.worker-factory.js'
import { startJobWorker } from './jobs/job.wiring.js'

export interface RunningGateway {
  app: FastifyInstance
  services: Services
  stop(): Promise<void>
}

/**
 * Starts the gateway: services (database, migrations), the app, the background workers;
 * listens; stops gracefully on SIGINT/SIGTERM (stop accepting, finish in-flight requests and
 * worker steps, close the database).
 */
export async function startGateway (config: Readonly<Config>, logger: Logger): Promise<RunningGateway> {
  const services = await createServices({ config, logger })
  const app = await buildApp(services)
  const workers = await startWorkers(services)
  await app.listen({ port: config.port, host: config.host })
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      logger.info('stopping')
      await app.close()
      await workers.stop()
      await services.close()
    })()
    return stopping
  }
  return { app, services, stop }
}

/** Background workers run inside the gateway unless MARKETGATE_WORKERS=off. */
export async function startWorkers (services: Services): Promise<{ stop(): Promise<void> }> {
  const stops: Array<() => Promise<void>> = []
  if (services.config.workers) {
    if (services.config.aws) stops.push(startAwsWorkers(services), startMeteringWorker(services))
    const webhooks = createWebhookWorker(services)
    webhooks.start()
    stops.push(() => webhooks.stop(), startJobWorker(services))
  }
  return { stop: async () => { for (const s of stops) await s() } }
}
