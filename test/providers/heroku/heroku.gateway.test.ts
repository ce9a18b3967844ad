import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { resourceToken, userScopedResourceToken } from '../../../providers/heroku/heroku.sso.js'
import { herokuManifestText } from '../../../src/manifest.js'
import { build } from '../../helpers/build.js'
import { allRows, herokuEnv, v3Body } from '../../helpers/heroku.js'

const env = {
  ...herokuEnv,
  HEROKU_ADDON_NAME: 'Acme DB',
  HEROKU_CONFIG_VARS_PREFIX: 'ACME',
  HEROKU_PLANS: 'basic,pro',
  HEROKU_REGIONS: 'us,eu',
  MARKETGATE_PUBLIC_URL: 'https://gw.example.com',
  MARKETGATE_SERVICE_URL: 'https://api.acme.example',
  MARKETGATE_LOGIN_URL: 'https://app.acme.example/welcome'
}

t.test('a tool that knows only the manifest can provision, change plan, sign in and deprovision', async (t) => {
  const { app, services, config, logs } = await build(t, env)
  const manifest = JSON.parse(herokuManifestText(config)!)
  t.match(manifest, { id: 'acme-db', name: 'Acme DB', api: { version: '3', config_vars_prefix: 'ACME', regions: ['us', 'eu'], requires: [] } })

  // Everything below comes from the manifest alone.
  const base = new URL(manifest.api.production.base_url)
  const sso = new URL(manifest.api.production.sso_url)
  t.equal(base.origin, 'https://gw.example.com')
  t.equal(sso.origin, 'https://gw.example.com')
  const authorization = `Basic ${Buffer.from(`${manifest.id}:${manifest.api.password}`).toString('base64')}`
  const headers = { authorization, host: base.host, 'x-forwarded-proto': 'https', accept: 'application/vnd.heroku-addons+json; version=3' }
  const body = v3Body()

  const created = await app.inject({ method: 'POST', url: base.pathname, headers, payload: body })
  t.equal(created.statusCode, 200)
  const answer = created.json()
  t.same(Object.keys(answer.config).sort(), [...manifest.api.config_vars].sort(), 'exactly the manifest\'s config vars')
  for (const name of Object.keys(answer.config)) t.ok(name.startsWith(`${manifest.api.config_vars_prefix}_`), name)
  for (const value of Object.values(answer.config)) t.type(value, 'string')
  t.equal(answer.config.ACME_URL, 'https://api.acme.example')

  const changed = await app.inject({ method: 'PUT', url: `${base.pathname}/${answer.id}`, headers, payload: { plan: 'pro' } })
  t.equal(changed.statusCode, 200)

  const timestamp = String(Math.floor(services.clock.now().getTime() / 1000))
  const form = new URLSearchParams({
    resource_id: answer.id, resource_token: resourceToken(answer.id, manifest.api.sso_salt, timestamp), timestamp,
    user_scoped_resource_token: userScopedResourceToken(answer.id, manifest.api.sso_salt, timestamp, 'user-1', 'dev@acme.example'),
    user_id: 'user-1', email: 'dev@acme.example', app: 'acme-app', 'nav-data': 'eyJhcHBuYW1lIjoiYWNtZS1hcHAifQ'
  })
  const signIn = await app.inject({ method: 'POST', url: sso.pathname, headers: { host: sso.host, 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() })
  t.equal(signIn.statusCode, 303)

  const removed = await app.inject({ method: 'DELETE', url: `${base.pathname}/${answer.id}`, headers })
  t.equal(removed.statusCode, 204)
  t.same((await allRows(services)).events.map((e) => e.type),
    ['account.provisioned', 'account.plan_changed', 'account.login', 'account.cancelled'])

  // Refusals and the legacy GET (token in the query string) log too: none may leak a secret.
  await app.inject({ method: 'POST', url: base.pathname, headers: { authorization: `Basic ${Buffer.from(`acme-db:${manifest.api.password}x`).toString('base64')}` }, payload: body })
  await app.inject({ method: 'GET', url: `${base.pathname}/${answer.id}?token=${resourceToken(answer.id, manifest.api.sso_salt, timestamp)}&timestamp=${timestamp}` })
  const text = logs.join('')
  t.ok(text.length > 0, 'the app logged')
  const secrets = {
    password: manifest.api.password, salt: manifest.api.sso_salt, apiKey: answer.config.ACME_API_KEY,
    token: form.get('resource_token')!, userToken: form.get('user_scoped_resource_token')!,
    grant: body.oauth_grant.code, drain: body.log_drain_token, basic: authorization.slice(6),
    ticket: new URL(signIn.headers.location as string).searchParams.get('ticket')!,
    session: (signIn.cookies as Array<{ name: string, value: string }>).find((c) => c.name === 'marketgate_session')!.value
  }
  for (const [name, secret] of Object.entries(secrets)) {
    t.ok(typeof secret === 'string' && secret.length >= 8, `${name} is a real value`)
    t.notOk(text.includes(secret), `no ${name} in the logs`)
  }
})

t.test('`marketgate manifest heroku` prints the manifest of the configuration', async (t) => {
  const { config } = await build(t, env)
  const run = promisify(execFile)
  const { stdout } = await run(process.execPath, ['bin/marketgate.js', 'manifest', 'heroku'], {
    env: { PATH: process.env.PATH, ...env, MARKETGATE_LOG_LEVEL: 'silent' }
  })
  t.same(JSON.parse(stdout), JSON.parse(herokuManifestText(config)!))
  const failed = await run(process.execPath, ['bin/marketgate.js', 'manifest', 'heroku'], { env: { PATH: process.env.PATH } }).catch((e: { code: number, stderr: string }) => e)
  t.match(failed, { code: 78, stderr: /HEROKU_ADDON_ID/ })
})
