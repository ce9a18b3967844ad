import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { LoginHandoff } from '../core/index.js'
import { herokuPlugin } from '../providers/heroku/heroku.plugin.js'
import type { HerokuSettings } from '../providers/heroku/heroku.settings.js'
import type { Config } from './config.js'
import { toHttpError } from './http/error-handler.js'
import type { Services } from './services.js'
import { createCredentialStore } from './storage/credential.store.js'

/**
 * One line per marketplace: each provider is an encapsulated plugin under its own prefix,
 * registered only when its configuration is present.
 */
export async function registerProviders (app: FastifyInstance, services: Services): Promise<void> {
  const { config } = services
  const login = interimLoginHandoff(services)
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  if (config.heroku) {
    await app.register(herokuPlugin, { prefix: '/heroku', settings: herokuSettings(config), lifecycle: services.lifecycle, credentials, login, clock: services.clock, toHttpError })
  }
}

/** The Heroku provider's view of the configuration (also what `marketgate manifest heroku` prints). */
export function herokuSettings (config: Readonly<Config>): HerokuSettings {
  const h = config.heroku!
  return {
    addonId: h.addonId, addonName: h.addonName, password: h.password, ssoSalt: h.ssoSalt, configVarsPrefix: h.configVarsPrefix,
    plans: h.plans, regions: h.regions, publicUrl: config.publicUrl, serviceUrl: config.serviceUrl
  }
}

/**
 * INTERIM, until src/login (one-time tickets, the signed-in page, redeem) lands: a signed,
 * 60-second ticket and a signed session cookie, with no redemption record. Replace this
 * function with the real LoginHandoff; the providers only know the port.
 */
function interimLoginHandoff (services: Services): LoginHandoff {
  const { config, clock } = services
  const sign = (purpose: string, payload: unknown) => {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
    return `${body}.${createHmac('sha256', services.secrets.subkey(purpose)).update(body).digest('base64url')}`
  }
  return {
    async begin (account, user) {
      const now = clock.now().getTime()
      const ticket = sign('login-ticket', { a: account.id, u: user, exp: now + 60_000 })
      const location = new URL(config.loginUrl ?? `${config.publicUrl}/login/signed-in`)
      location.searchParams.set('ticket', ticket)
      const session = sign('session', { a: account.id, m: account.marketplace, u: user, exp: now + 8 * 3600_000 })
      return {
        location: location.toString(),
        cookies: [{ name: 'marketgate_session', value: session, options: { path: '/', httpOnly: true, sameSite: 'lax', secure: config.publicUrl.startsWith('https://'), maxAge: 8 * 3600 } }]
      }
    }
  }
}
