import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import { createLogger } from '../../../src/logger.js'
import { createRandom } from '../../../src/random.js'
import { startWorkers } from '../../../src/server.js'
import { createServices, type Services } from '../../../src/services.js'
import { adminToken, testSecretKey } from '../../helpers/build.js'
import type { FakeClock } from '../../helpers/clock.js'
import { herokuEnv, herokuHeaders, v3Body } from '../../helpers/heroku.js'

interface Teardown { teardown(fn: () => unknown): void }

export interface Instance {
  app: FastifyInstance
  services: Services
  logs: string[]
  stopWorkers(): Promise<void>
}

/** The statement timeout of these tests: a frozen database must answer 503 within about this plus the client's margin. */
export const statementTimeoutMs = 500

/**
 * One gateway process as `marketgate start` builds it (createServices opening DATABASE_URL,
 * buildApp, startWorkers), over `url` (the proxy), sharing `clock` with the test.
 */
export async function startInstance (t: Teardown, url: string, clock: FakeClock, workers: 'on' | 'off'): Promise<Instance> {
  const config = loadConfig({
    DATABASE_URL: url,
    DATABASE_STATEMENT_TIMEOUT_MS: String(statementTimeoutMs),
    DATABASE_CONNECT_TIMEOUT_S: '5',
    MARKETGATE_ADMIN_TOKEN: adminToken,
    MARKETGATE_SECRET_KEY: testSecretKey,
    MARKETGATE_PUBLIC_URL: 'http://gateway.test',
    MARKETGATE_LOG_LEVEL: 'info',
    MARKETGATE_WORKERS: workers,
    MARKETGATE_WEBHOOK_TIMEOUT_MS: '2000',
    ...herokuEnv
  })
  const logs: string[] = []
  const logger = createLogger(config.logLevel, new Writable({ write (chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb() } }))
  const services = await createServices({ config, logger, clock, random: createRandom(clock), migrate: false })
  const app = await buildApp(services)
  const running = await startWorkers(services)
  let stopped: Promise<void> | undefined
  const stopWorkers = () => { stopped ??= running.stop(); return stopped }
  t.teardown(async () => {
    await app.close()
    await stopWorkers()
    await services.close()
  })
  return { app, services, logs, stopWorkers }
}

/** `n` Heroku provisions, `concurrency` at a time; resolves with each status. */
export async function provisions (app: FastifyInstance, n: number, concurrency = 5, onEach?: (done: number) => void): Promise<Array<{ status: number, body: string, retryAfter: unknown }>> {
  const results: Array<{ status: number, body: string, retryAfter: unknown }> = []
  let next = 0
  const lane = async () => {
    while (next < n) {
      next++
      const uuid = randomUUID()
      const res = await app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body({ uuid, callback_url: `https://api.heroku.com/addons/${uuid}`, oauth_grant: undefined }) })
      results.push({ status: res.statusCode, body: res.body, retryAfter: res.headers['retry-after'] })
      onEach?.(results.length)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return results
}

/** Polls `check` every 50 ms until it is true or `ms` have passed; returns whether it became true. */
export async function eventually (check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  for (;;) {
    if (await check()) return true
    if (Date.now() > until) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Log lines at error (50) or fatal (60): an outage must produce none, only warnings. */
export function errorLines (logs: string[]): string[] {
  return logs.filter((l) => { try { return (JSON.parse(l) as { level: number }).level >= 50 } catch { return false } })
}
