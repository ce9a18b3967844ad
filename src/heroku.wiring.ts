import type { HerokuPluginOptions } from '../providers/heroku/heroku.plugin.js'
import type { HerokuSettings } from '../providers/heroku/heroku.settings.js'
import type { Config } from './config.js'
import { toHttpError } from './http/error-handler.js'
import type { Services } from './services.js'
import { createCredentialStore } from './storage/credential.store.js'

/** The Heroku provider's view of the configuration (also what `marketgate manifest heroku` prints). */
export function herokuSettings (config: Readonly<Config>): HerokuSettings {
  const h = config.heroku!
  return {
    addonId: h.addonId, addonName: h.addonName, password: h.password, ssoSalt: h.ssoSalt, configVarsPrefix: h.configVarsPrefix,
    plans: h.plans, regions: h.regions, publicUrl: config.publicUrl, serviceUrl: config.serviceUrl
  }
}

/** Everything the Heroku plugin receives from the gateway's services. */
export function herokuPluginOptions (services: Services): HerokuPluginOptions {
  return {
    settings: herokuSettings(services.config),
    lifecycle: services.lifecycle,
    credentials: createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random }),
    login: services.login,
    clock: services.clock,
    toHttpError
  }
}
