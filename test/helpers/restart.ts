import { Writable } from 'node:stream'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { createRandom } from '../../src/random.js'
import { createServices, type Services } from '../../src/services.js'
import { adminToken, type Built } from './build.js'

/**
 * Another start of the gateway's services over `built`'s database (as after a restart or on a
 * second instance), with the given secret keys. Its logs land in `logs`; closed in teardown.
 */
export async function restart (t: { teardown(fn: () => unknown): void }, built: Built, keys: { key: string, previous?: string }, logs: string[] = []): Promise<Services> {
  const config = loadConfig({
    MARKETGATE_ADMIN_TOKEN: adminToken,
    MARKETGATE_PUBLIC_URL: 'http://gateway.test',
    MARKETGATE_WORKERS: 'off',
    MARKETGATE_SECRET_KEY: keys.key,
    ...(keys.previous === undefined ? {} : { MARKETGATE_SECRET_KEY_PREVIOUS: keys.previous })
  })
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb() } })
  const services = await createServices({
    config, logger: createLogger('info', sink), clock: built.clock, random: createRandom(built.clock), database: built.services.database, migrate: false
  })
  t.teardown(() => services.close())
  return services
}
