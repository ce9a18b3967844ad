import t, { type Test } from 'tap'
import { loadConfig, type ConfigError } from '../../../src/config.js'

const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`
const heroku = { HEROKU_ADDON_ID: 'acme-db', HEROKU_ADDON_PASSWORD: 'pw-0123456789' }

function fails (t: Test, env: Record<string, string>, variable: string, message: RegExp) {
  const err = t.throws(() => loadConfig(env)) as ConfigError
  t.equal(err.name, 'ConfigError')
  t.equal(err.variable, variable)
  t.match(err.message, message)
  t.notOk(err.message.includes('\n'), 'one line')
  if (env.MARKETGATE_HOOK_SECRET) t.notOk(err.message.includes(env.MARKETGATE_HOOK_SECRET), 'the secret is never printed')
}

t.test('without a hook there is none', async (t) => {
  t.equal(loadConfig({}).hook, undefined)
})

t.test('a hook with its defaults', async (t) => {
  t.same(loadConfig({ MARKETGATE_HOOK_URL: 'https://vendor.example/hook', MARKETGATE_HOOK_SECRET: secret }).hook,
    { url: 'https://vendor.example/hook', secret, timeoutMs: 20000, onUndecided: 'allow' })
  t.same(loadConfig({ MARKETGATE_HOOK_URL: 'http://127.0.0.1:9000/', MARKETGATE_HOOK_SECRET: secret, MARKETGATE_HOOK_TIMEOUT_MS: '1000', MARKETGATE_HOOK_ON_UNDECIDED: 'refuse' }).hook,
    { url: 'http://127.0.0.1:9000/', secret, timeoutMs: 1000, onUndecided: 'refuse' })
})

t.test('bad hook settings stop the start with one line naming the variable', async (t) => {
  fails(t, { MARKETGATE_HOOK_URL: 'ftp://vendor.example/hook', MARKETGATE_HOOK_SECRET: secret }, 'MARKETGATE_HOOK_URL', /http:\/\/ or https:\/\//)
  fails(t, { MARKETGATE_HOOK_URL: 'vendor.example', MARKETGATE_HOOK_SECRET: secret }, 'MARKETGATE_HOOK_URL', /http/)
  fails(t, { MARKETGATE_HOOK_URL: 'https://vendor.example/hook' }, 'MARKETGATE_HOOK_SECRET', /required/)
  fails(t, { MARKETGATE_HOOK_URL: 'https://vendor.example/hook', MARKETGATE_HOOK_SECRET: 'sk_live_0123456789abcdef0123456789abcdef' }, 'MARKETGATE_HOOK_SECRET', /whsec_/)
  fails(t, { MARKETGATE_HOOK_URL: 'https://vendor.example/hook', MARKETGATE_HOOK_SECRET: 'whsec_short' }, 'MARKETGATE_HOOK_SECRET', /whsec_/)
  fails(t, { MARKETGATE_HOOK_SECRET: secret }, 'MARKETGATE_HOOK_URL', /required/)
  fails(t, { MARKETGATE_HOOK_URL: 'https://vendor.example/hook', MARKETGATE_HOOK_SECRET: secret, MARKETGATE_HOOK_TIMEOUT_MS: '999' }, 'MARKETGATE_HOOK_TIMEOUT_MS', /from 1000 to 25000/)
  fails(t, { MARKETGATE_HOOK_URL: 'https://vendor.example/hook', MARKETGATE_HOOK_SECRET: secret, MARKETGATE_HOOK_TIMEOUT_MS: '25001' }, 'MARKETGATE_HOOK_TIMEOUT_MS', /from 1000 to 25000/)
  fails(t, { MARKETGATE_HOOK_ON_UNDECIDED: 'maybe' }, 'MARKETGATE_HOOK_ON_UNDECIDED', /allow, refuse/)
})

t.test('HEROKU_CONFIG_VARS: names after the prefix, default URL and API_KEY', async (t) => {
  t.same(loadConfig(heroku).heroku?.configVars, ['URL', 'API_KEY'])
  t.same(loadConfig({ ...heroku, HEROKU_CONFIG_VARS: 'URL, PASSWORD ,USER' }).heroku?.configVars, ['URL', 'PASSWORD', 'USER'])
  fails(t, { ...heroku, HEROKU_CONFIG_VARS: 'url,API_KEY' }, 'HEROKU_CONFIG_VARS', /match/)
})
