import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { operationsRoutes } from './http/operations.routes.js'
import { describeDatabaseUrl } from './storage/connect.retry.js'
import { ProbeQuietLogController } from './http/probe-logging.js'
import { buildApp } from './app.js'
import type { Config } from './config.js'
import { createServices, type Services } from './services.js'
import { startAwsWorkers } from './aws.workers.js'
import { startMeteringWorker } from './metering/metering.wiring.js'
import { createWebhookWorker } from './webhooks/webhook.worker-factory.js'
import { startJobWorker } from './jobs/job.wiring.js'
import { startRetentionWorker } from './retention/retention.wiring.js'

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
  // Listen before starting the workers: a port in use fails the start before any work is claimed.
  await listenOrClose(app, services, { port: config.port, host: config.host })
  const workers = await startWorkers(services)
  logger.info(startupSummary(services, 'gateway'), `marketgate listening on ${config.host}:${config.port}, public URL ${config.publicUrl}`)
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
    stops.push(() => webhooks.stop(), startJobWorker(services), startRetentionWorker(services))
  }
  return { stop: async () => { for (const s of stops) await s() } }
}

/**
 * `marketgate worker`: the background workers of a gateway without its marketplace routes,
 * plus /healthz, /readyz and /metrics on MARKETGATE_WORKER_PORT so an orchestrator can probe
 * it and Prometheus can scrape its delivery and job metrics.
 */
export async function startWorkerProcess (config: Readonly<Config>, logger: Logger): Promise<{ services: Services, app: FastifyInstance, stop(): Promise<void> }> {
  const services = await createServices({ config: { ...config, workers: true }, logger })
  const app = Fastify({ loggerInstance: logger.child({ component: 'worker-http' }) as FastifyBaseLogger, logController: new ProbeQuietLogController() })
  await app.register(operationsRoutes, { db: services.db, metrics: services.metrics })
  await listenOrClose(app, services, { port: config.workerPort, host: config.host })
  const workers = await startWorkers(services)
  logger.info(startupSummary(services, 'worker'), `marketgate worker running; health and metrics on ${config.host}:${config.workerPort}`)
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      await app.close()
      await workers.stop()
      await services.close()
    })()
    return stopping
  }
  return { services, app, stop }
}

/** Listens, or closes what was opened and throws (a port in use: PortInUseError, exit 75). */
async function listenOrClose (app: FastifyInstance, services: Services, at: { port: number, host: string }): Promise<void> {
  try {
    await app.listen(at)
  } catch (err) {
    await app.close().catch(() => {})
    await services.close().catch(() => {})
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(`port ${at.port} on ${at.host} is in use by another process`, { cause: err })
    throw err
  }
}

export class PortInUseError extends Error {
  constructor (message: string, options: { cause?: unknown }) {
    super(message, options)
    this.name = 'PortInUseError'
  }
}

/**
 * What an operator wants to see once at start: where the data lives (never a password),
 * which marketplaces are on, whether /v1 is open, and the public URL.
 */
export function startupSummary (services: Services, role: 'gateway' | 'worker'): Record<string, unknown> {
  const { config, database } = services
  return {
    role,
    engine: database.engine,
    data: database.engine === 'postgres' ? describeDatabaseUrl(config.database.url ?? '') : config.database.url ?? config.database.dataDir,
    marketplaces: [config.heroku ? 'heroku' : undefined, config.aws ? 'aws' : undefined].filter((m) => m !== undefined),
    v1: config.adminToken === undefined ? 'closed (set MARKETGATE_ADMIN_TOKEN)' : 'open',
    workers: role === 'worker' || config.workers ? 'on' : 'off',
    publicUrl: config.publicUrl,
    node: process.version
  }
}
