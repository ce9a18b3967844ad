import type { FastifyInstance } from 'fastify'
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
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })
  if (config.heroku) {
    await app.register(herokuPlugin, { prefix: '/heroku', settings: herokuSettings(config), lifecycle: services.lifecycle, credentials, login: services.login, clock: services.clock, toHttpError })
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
