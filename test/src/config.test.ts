import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

const fails = (env: Record<string, string>, variable: string) => {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.variable === variable ? err.message : `named ${err.variable}: ${err.message}`
    throw err
  }
  return 'did not fail'
}

t.test('defaults follow the contract', async (t) => {
  const c = loadConfig({})
  t.match(c, { port: 3000, host: '0.0.0.0', publicUrl: 'http://localhost:3000', serviceUrl: 'http://localhost:3000', adminToken: undefined, heroku: undefined, aws: undefined })
  t.same(c.database, { url: undefined, dataDir: './.marketgate', poolSize: 10, preparedStatements: true, connectTimeoutS: 60, statementTimeoutMs: 5000 })
    t.match(c, { trustProxy: false, requestTimeoutMs: 30000, authRateLimit: 60, workerPort: 3001, secretKeyPrevious: undefined })
  t.equal(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'off' }).database.preparedStatements, false)
  t.throws(() => loadConfig({ DATABASE_PREPARED_STATEMENTS: 'yes' }), /DATABASE_PREPARED_STATEMENTS/)
  t.ok(Object.isFrozen(c))
})

t.test('a bad value stops the start with one error naming the variable', async (t) => {
  t.match(fails({ PORT: 'eighty' }, 'PORT'), /^PORT: /)
  t.match(fails({ PORT: '70000' }, 'PORT'), /^PORT: /)
  t.match(fails({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'), /^DATABASE_URL: /)
  t.match(fails({ MARKETGATE_PUBLIC_URL: 'gateway.example.com' }, 'MARKETGATE_PUBLIC_URL'), /^MARKETGATE_PUBLIC_URL: /)
  t.match(fails({ MARKETGATE_LOG_LEVEL: 'loud' }, 'MARKETGATE_LOG_LEVEL'), /^MARKETGATE_LOG_LEVEL: /)
  t.match(fails({ DATABASE_URL: 'postgres://u:p@db/x' }, 'MARKETGATE_SECRET_KEY'), /required with DATABASE_URL/)
  t.match(fails({ HEROKU_ADDON_ID: 'my-addon' }, 'HEROKU_ADDON_PASSWORD'), /required/)
  t.match(fails({ HEROKU_ADDON_PASSWORD: 'secret-password' }, 'HEROKU_ADDON_ID'), /required/)
  t.match(fails({ AWS_MARKETPLACE_PRODUCT_CODE: 'p', AWS_PLAN_DIMENSIONS: 'a=b,c' }, 'AWS_PLAN_DIMENSIONS'), /pairs/)
})

t.test('secret values never appear in configuration errors', async (t) => {
  const secret = 'short-secret'
  for (const variable of ['MARKETGATE_ADMIN_TOKEN', 'MARKETGATE_SECRET_KEY', 'HEROKU_ADDON_PASSWORD', 'HEROKU_SSO_SALT']) {
    const env: Record<string, string> = { [variable]: 'x' + secret.slice(0, 4) }
    if (variable === 'HEROKU_ADDON_PASSWORD') env.HEROKU_ADDON_ID = 'my-addon'
    const message = fails(env, variable)
    t.match(message, new RegExp(`^${variable}: `), variable)
    t.notMatch(message, 'xshor', variable)
  }
  const url = 'postgres://user:hunter2-password@db.internal/x'
  t.notMatch(fails({ DATABASE_URL: url }, 'MARKETGATE_SECRET_KEY'), 'hunter2')
})

t.test('derived values: Heroku prefix, public URL, AWS topics and dimension map', async (t) => {
  const c = loadConfig({
    HEROKU_ADDON_ID: 'acme-db', HEROKU_ADDON_PASSWORD: 'pass-word-123', PORT: '8080',
    AWS_MARKETPLACE_PRODUCT_CODE: 'prod-1', AWS_PLAN_DIMENSIONS: 'ent=Enterprise, team=Team', HEROKU_PLANS: 'basic, pro'
  })
  t.equal(c.heroku?.configVarsPrefix, 'ACME_DB')
  t.same(c.heroku?.plans, ['basic', 'pro'])
  t.equal(c.publicUrl, 'http://localhost:8080')
  t.same(c.aws?.snsTopicArns, [
    'arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-prod-1',
    'arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-prod-1'
  ])
  t.same(c.aws?.planDimensions, { ent: 'Enterprise', team: 'Team' })
  t.equal(loadConfig({ MARKETGATE_PUBLIC_URL: 'https://gw.example.com/' }).publicUrl, 'https://gw.example.com')
})

t.test('MARKETGATE_TRUST_PROXY: off by default, on, a hop count or a list of proxies', async (t) => {
  t.equal(loadConfig({}).trustProxy, false)
  t.equal(loadConfig({ MARKETGATE_TRUST_PROXY: 'off' }).trustProxy, false)
  t.equal(loadConfig({ MARKETGATE_TRUST_PROXY: 'on' }).trustProxy, 1, 'on is one proxy, never every X-Forwarded-For entry')
  t.equal(loadConfig({ MARKETGATE_TRUST_PROXY: '2' }).trustProxy, 2)
  t.same(loadConfig({ MARKETGATE_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16' }).trustProxy, ['10.0.0.1', '192.168.0.0/16'])
  t.throws(() => loadConfig({ MARKETGATE_TRUST_PROXY: 'everyone' }), /MARKETGATE_TRUST_PROXY/)
})

t.test('timeouts are bounded', async (t) => {
  t.equal(loadConfig({ DATABASE_CONNECT_TIMEOUT_S: '5' }).database.connectTimeoutS, 5)
  t.equal(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0' }).database.statementTimeoutMs, 0, '0 turns the timeouts off')
  t.throws(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '-1' }), /DATABASE_STATEMENT_TIMEOUT_MS/)
  t.throws(() => loadConfig({ MARKETGATE_REQUEST_TIMEOUT_MS: 'soon' }), /MARKETGATE_REQUEST_TIMEOUT_MS/)
  const err = (() => { try { loadConfig({ MARKETGATE_SECRET_KEY_PREVIOUS: 'short-secret' }) } catch (e) { return e as Error } })()
  t.match(err?.message, /^MARKETGATE_SECRET_KEY_PREVIOUS/)
  t.notMatch(err?.message, /short-secret/, 'the value is never printed')
})

t.test('MARKETGATE_PRODUCT_ID names the one product: default `default`, a lower-case slug of 63 characters at most', async (t) => {
  t.equal(loadConfig({}).productId, 'default')
  t.equal(loadConfig({ MARKETGATE_PRODUCT_ID: 'acme-db' }).productId, 'acme-db')
  t.equal(loadConfig({ MARKETGATE_PRODUCT_ID: `a${'-'.repeat(62)}` }).productId.length, 63)
  for (const bad of ['Acme', '-acme', 'acme_db', 'acme db', `a${'b'.repeat(63)}`]) {
    t.match(fails({ MARKETGATE_PRODUCT_ID: bad }, 'MARKETGATE_PRODUCT_ID'), /^MARKETGATE_PRODUCT_ID: /, bad)
  }
})
