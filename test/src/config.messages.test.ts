import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

function message (env: Record<string, string>): string {
  try { loadConfig(env) } catch (err) { if (err instanceof ConfigError) return err.message; throw err }
  throw new Error('expected a ConfigError')
}

t.test('enum variables list their values', async (t) => {
  t.equal(message({ MARKETGATE_WORKERS: 'maybe' }), 'MARKETGATE_WORKERS: must be one of on, off')
  t.equal(message({ MARKETGATE_LOG_LEVEL: 'loud' }), 'MARKETGATE_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent')
  t.equal(message({ HEROKU_PROVISIONING: 'later' }), 'HEROKU_PROVISIONING: must be one of sync, async')
  t.equal(message({ DATABASE_PREPARED_STATEMENTS: 'yes' }), 'DATABASE_PREPARED_STATEMENTS: must be one of on, off')
})

t.test('integers say their range', async (t) => {
  t.equal(message({ PORT: 'eighty' }), 'PORT: must be an integer from 0 to 65535')
  t.equal(message({ MARKETGATE_REQUEST_TIMEOUT_MS: '5' }), 'MARKETGATE_REQUEST_TIMEOUT_MS: must be an integer from 1000 to 600000')
  t.equal(message({ MARKETGATE_BODY_LIMIT: '10' }), 'MARKETGATE_BODY_LIMIT: must be an integer of at least 1024')
})

t.test('secret values are never printed', async (t) => {
  const m = message({ MARKETGATE_ADMIN_TOKEN: 'tooshort-zq' })
  t.match(m, /^MARKETGATE_ADMIN_TOKEN: /)
  t.notMatch(m, 'tooshort-zq')
})
