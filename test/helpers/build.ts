import type { FastifyInstance } from 'fastify'
import { Writable } from 'node:stream'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import type { ProviderOverrides } from '../../src/providers.js'
import { createLogger } from '../../src/logger.js'
import { createServices, type Services } from '../../src/services.js'
import { createRandom } from '../../src/random.js'
import { FakeClock } from './clock.js'
import { freshDatabase } from './database.js'

export const adminToken = 'test-admin-token-0123456789'
export const testSecretKey = 'test-secret-key-0123456789-0123456789-abcdef'

/** The minimal tap surface the helper needs (so it works with any tap Test). */
interface Teardown { teardown(fn: () => unknown): void }

export interface Built {
  app: FastifyInstance
  services: Services
  clock: FakeClock
  config: Readonly<Config>
  /** Every log line the app wrote, as text: for asserting that secrets never appear. */
  logs: string[]
  /** Authorization header for /v1. */
  auth: { authorization: string }
}

/**
 * Builds the real app on a fresh database (in-memory PGlite, or a new Postgres database
 * when DATABASE_URL is set) with a fake clock, and closes everything in teardown.
 * `env` adds configuration on top of a small test default.
 */
export async function build (t: Teardown, env: Record<string, string> = {}, options: { clock?: FakeClock, providers?: ProviderOverrides } = {}): Promise<Built> {
  const database = await freshDatabase()
  const config = loadConfig({
    MARKETGATE_ADMIN_TOKEN: adminToken,
    MARKETGATE_SECRET_KEY: testSecretKey,
    MARKETGATE_PUBLIC_URL: 'http://gateway.test',
    MARKETGATE_LOG_LEVEL: 'info',
    MARKETGATE_WORKERS: 'off',
    ...env
  })
  const logs: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb() } })
  const logger = createLogger(config.logLevel, sink)
  const clock = options.clock ?? new FakeClock()
  const services = await createServices({ config, logger, clock, random: createRandom(clock), database, migrate: false })
  const app = await buildApp(services, options.providers)
  t.teardown(async () => {
    await app.close()
    await services.close()
  })
  return { app, services, clock, config, logs, auth: { authorization: `Bearer ${adminToken}` } }
}
