import type { Services } from '../../src/services.js'

/** A Heroku configuration for tests; secrets are distinctive so the log test can look for them. */
export const herokuEnv = {
  HEROKU_ADDON_ID: 'acme-db',
  HEROKU_ADDON_PASSWORD: 'pw-5f0c2e7a9b1d4c3e8f6a',
  HEROKU_SSO_SALT: 'salt-9e8d7c6b5a4f3e2d1c0b'
} as const

export const resourceUuid = '01234567-89ab-cdef-0123-456789abcdef'

export function basicAuth (user: string = herokuEnv.HEROKU_ADDON_ID, password: string = herokuEnv.HEROKU_ADDON_PASSWORD) {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
}

/** Headers as Heroku sends them on Partner API calls (v3). */
export const herokuHeaders = { ...basicAuth(), accept: 'application/vnd.heroku-addons+json; version=3' }

/** A v3 provisioning body, as in Heroku's documentation example. */
export function v3Body (overrides: Record<string, unknown> = {}) {
  return {
    uuid: resourceUuid,
    name: 'acme-inc-primary-database',
    plan: 'basic',
    region: 'amazon-web-services::us-east-1',
    callback_url: `https://api.heroku.com/addons/${resourceUuid}`,
    oauth_grant: { code: 'grant-code-01234567-abcd', expires_at: '2026-11-27T10:05:00Z', type: 'authorization_code' },
    options: { foo: 'bar' },
    log_drain_token: 'd.drain-token-0123',
    ...overrides
  }
}

/** The v1 body kensa sends: heroku_id, no grant, no name. */
export function kensaBody (overrides: Record<string, unknown> = {}) {
  return {
    heroku_id: 'app1234@kensa.heroku.com',
    plan: 'test',
    callback_url: 'http://localhost:7779/callback/999',
    logplex_token: null,
    region: 'amazon-web-services::us-east-1',
    options: {},
    uuid: resourceUuid,
    ...overrides
  }
}

/** Every row a Heroku call may write, for "nothing written" and "exactly this written" checks. */
export async function allRows (services: Services) {
  const db = services.db
  return {
    accounts: await db.selectFrom('accounts').selectAll().orderBy('id').execute(),
    events: await db.selectFrom('account_events').selectAll().orderBy('id').execute(),
    deliveries: await db.selectFrom('webhook_deliveries').selectAll().orderBy('id').execute(),
    credentials: await db.selectFrom('account_credentials').selectAll().orderBy('id').execute()
  }
}

/** A webhook endpoint row, so the outbox fans out to it. */
export async function addEndpoint (services: Services): Promise<string> {
  const id = services.random.uuid()
  const now = services.clock.now()
  await services.db.insertInto('webhook_endpoints')
    .values({ id, url: 'http://vendor.test/hooks', events: null, secret_encrypted: services.secrets.seal('whsec_test'), created_at: now, updated_at: now })
    .execute()
  return id
}
