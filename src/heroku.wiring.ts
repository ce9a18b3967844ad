import type { JobHandlers } from '../core/index.js'
import { createHerokuHttp } from '../providers/heroku/heroku.http.js'
import { herokuJobHandlers } from '../providers/heroku/heroku.jobs.js'
import { createHerokuOAuth } from '../providers/heroku/heroku.oauth.js'
import { createHerokuPlatform } from '../providers/heroku/heroku.platform.js'
import type { HerokuHook } from '../providers/heroku/heroku.hook.js'
import type { HerokuPluginOptions } from '../providers/heroku/heroku.plugin.js'
import type { HerokuSettings } from '../providers/heroku/heroku.settings.js'
import { createHerokuTokens } from '../providers/heroku/heroku.tokens.js'
import { createHerokuVendorService, type HerokuVendorService } from '../providers/heroku/heroku.vendor.js'
import type { Config } from './config.js'
import { toHttpError } from './http/error-handler.js'
import type { Services } from './services.js'
import { createCredentialStore } from './storage/credential.store.js'
import { createOAuthTokenStore } from './storage/oauth-token.store.js'

/** The Heroku provider's view of the configuration (also what `marketgate manifest heroku` prints). */
export function herokuSettings (config: Readonly<Config>): HerokuSettings {
  const h = config.heroku!
  return {
    productId: config.productId,
    addonId: h.addonId, addonName: h.addonName, password: h.password, ssoSalt: h.ssoSalt, configVarsPrefix: h.configVarsPrefix,
    configVars: h.configVars, plans: h.plans, regions: h.regions, publicUrl: config.publicUrl, serviceUrl: config.serviceUrl,
    provisioning: h.provisioning, asyncPlans: h.asyncPlans
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
    toHttpError,
    // Grants are exchanged only with the add-on's OAuth client secret.
    jobs: services.config.heroku?.oauthClientSecret === undefined ? undefined : services.jobs,
    accounts: services.accounts,
    hook: herokuHook(services)
  }
}

/** The product's hook for the Heroku provider; undefined without one (everything is allowed). */
export function herokuHook (services: Services): HerokuHook | undefined {
  const { hook, grants } = services.hooks
  return hook === undefined ? undefined : { hook, grants, productId: services.config.productId }
}

export interface HerokuPlatformRuntime {
  /** Job handlers for the worker; empty without HEROKU_OAUTH_CLIENT_SECRET (nothing to call Heroku with). */
  handlers: JobHandlers
  vendor: HerokuVendorService
}

/**
 * The Platform API side of the Heroku provider, wired to this process's services: OAuth and
 * Platform API clients on HEROKU_ID_URL / HEROKU_API_URL, token and credential stores, the
 * job handlers and the vendor's /v1 operations. Undefined when Heroku is not configured.
 */
export function herokuPlatformRuntime (services: Services): HerokuPlatformRuntime | undefined {
  const h = services.config.heroku
  if (h === undefined) return undefined
  const { db, secrets, clock, random, lifecycle, accounts, jobs } = services
  const settings = herokuSettings(services.config)
  const log = services.logger.child({ component: 'heroku-platform' })
  const credentials = createCredentialStore({ db, secrets, clock, random })
  const tokens = createOAuthTokenStore({ db, secrets, clock })
  const http = createHerokuHttp({ now: () => clock.now() })
  const oauth = createHerokuOAuth({ http, idUrl: h.idUrl, clientSecret: h.oauthClientSecret ?? '', now: () => clock.now() })
  const platform = createHerokuPlatform({ http, apiUrl: h.apiUrl })
  const herokuTokens = createHerokuTokens({ tokens, oauth, lifecycle, accounts, clock, log })
  const handlers = h.oauthClientSecret === undefined ? {}
    : herokuJobHandlers({ settings, lifecycle, accounts, credentials, tokens, jobs, oauth, platform, herokuTokens, clock, log, hook: herokuHook(services) })
  const vendor = createHerokuVendorService({ settings, lifecycle, accounts, credentials, tokens, jobs, clock, graceMs: h.credentialGraceSeconds * 1000 })
  return { handlers, vendor }
}
