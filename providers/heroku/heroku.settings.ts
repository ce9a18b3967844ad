/**
 * What the Heroku provider needs to know about its configuration: the slice of the
 * gateway's config for Heroku plus the two URLs it hands out. `src/providers.ts` builds it.
 */
export interface HerokuSettings {
  /** The gateway's product this add-on is (CONTRACT §6): its resources' accounts belong to it. */
  productId: string
  /** The manifest slug; also the HTTP Basic user. */
  addonId: string
  /** The manifest's display name. */
  addonName: string
  password: string
  /** Without a salt, single sign-on is off (no routes, nothing in the manifest). */
  ssoSalt: string | undefined
  configVarsPrefix: string
  /** HEROKU_CONFIG_VARS: the config var names after the prefix (default URL, API_KEY). */
  configVars?: string[]
  /** Allow-lists; undefined accepts any value. */
  plans: string[] | undefined
  regions: string[] | undefined
  /** MARKETGATE_PUBLIC_URL, without a trailing slash: where Heroku and browsers reach us. */
  publicUrl: string
  /** MARKETGATE_SERVICE_URL: the `<PREFIX>_URL` config var. */
  serviceUrl: string
  /** HEROKU_PROVISIONING: `async` answers every provision 202 (default `sync`). */
  provisioning?: 'sync' | 'async'
  /** HEROKU_ASYNC_PLANS: plans provisioned asynchronously even when the default is `sync`. */
  asyncPlans?: string[]
}

/** True when a provision of this plan is asynchronous (202, then the vendor completes it). */
export function isAsyncPlan (settings: Pick<HerokuSettings, 'provisioning' | 'asyncPlans'>, plan: string): boolean {
  return settings.provisioning === 'async' || (settings.asyncPlans ?? []).includes(plan)
}

/** The paths the manifest names; the routes are registered at exactly these. */
export const herokuPaths = {
  prefix: '/heroku',
  resources: '/heroku/resources',
  ssoLogin: '/heroku/sso/login'
} as const

export const defaultConfigVars = ['URL', 'API_KEY']

/**
 * The config var names: `url` and `apiKey` (the gateway's two), and `all` that the add-on
 * sets (HEROKU_CONFIG_VARS with the prefix), in manifest order.
 */
export function configVarNames (settings: Pick<HerokuSettings, 'configVarsPrefix' | 'configVars'>): { url: string, apiKey: string, all: string[], hasApiKey: boolean } {
  const p = settings.configVarsPrefix
  const names = settings.configVars ?? defaultConfigVars
  return { url: `${p}_URL`, apiKey: `${p}_API_KEY`, all: names.map((n) => `${p}_${n}`), hasApiKey: names.includes('API_KEY') }
}
