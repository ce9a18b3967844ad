import {
  MarketgateError, type Account, type HookDecision, type HookGrant, type HookGrantStore, type HookQuestion, type VendorHook
} from '../../core/index.js'
import type { ProvisionBody } from './heroku.schemas.js'
import { configVarNames, type HerokuSettings } from './heroku.settings.js'

/** The vendor's hook as the Heroku provider uses it (contract §7). */
export interface HerokuHook {
  hook: VendorHook
  /** Where the config an allowed provision handed out is kept (sealed), so repeats answer the same. */
  grants: HookGrantStore
  /** `data.product` of every ask. */
  productId: string
}

/** Heroku's window for a provision is 30 s; the hook's own deadline (at most 25 s) fits inside it. */
export function provisionQuestion (productId: string, body: ProvisionBody): HookQuestion {
  const q: HookQuestion = { type: 'provision.requested', product: productId, marketplace: 'heroku', externalId: body.uuid, plan: body.plan }
  if (body.region !== undefined) q.region = body.region
  if (body.options !== undefined) q.options = body.options
  const customer: Record<string, unknown> = {}
  if (body.name !== undefined) customer.name = body.name
  if (body.heroku_id !== undefined) customer.heroku_id = body.heroku_id
  if (Object.keys(customer).length > 0) q.customer = customer
  return q
}

export function planChangeQuestion (productId: string, account: Account, plan: string): HookQuestion {
  return { type: 'plan_change.requested', product: productId, marketplace: 'heroku', externalId: account.externalId, plan, previousPlan: account.plan, account }
}

/** The question of a pending account, rebuilt from what it keeps (the retried decision job). */
export function pendingQuestion (productId: string, account: Account): HookQuestion {
  const m = account.metadata
  const q: HookQuestion = { type: 'provision.requested', product: productId, marketplace: 'heroku', externalId: account.externalId, plan: account.plan }
  if (typeof m.region === 'string') q.region = m.region
  if (typeof m.options === 'object' && m.options !== null) q.options = m.options as Record<string, unknown>
  return q
}

/** The config var names a vendor may set: HEROKU_CONFIG_VARS with the prefix, except the gateway's own API key. */
export function vendorVarNames (settings: Pick<HerokuSettings, 'configVarsPrefix' | 'configVars'>): Set<string> {
  const { apiKey, all } = configVarNames(settings)
  return new Set(all.filter((n) => n !== apiKey))
}

/** The rule for the vendor's config on Heroku: names in HEROKU_CONFIG_VARS, never the gateway's API key. */
export function checkVendorConfig (settings: Pick<HerokuSettings, 'configVarsPrefix' | 'configVars'>) {
  const allowed = vendorVarNames(settings)
  const { apiKey } = configVarNames(settings)
  return (config: Record<string, string>): string | undefined => {
    for (const name of Object.keys(config)) {
      if (name === apiKey) return `the hook set ${name}, the gateway's own API key`
      if (!allowed.has(name)) return `the hook set config var ${name.slice(0, 100)}, which HEROKU_CONFIG_VARS does not list (${[...allowed].join(', ') || 'none'})`
    }
    return undefined
  }
}

/** What an allowed decision hands out, as kept. */
export const grantOf = (d: Extract<HookDecision, { outcome: 'allowed' }>, questionId: string): HookGrant => ({
  config: d.config, questionId, ...(d.logDrainUrl !== undefined ? { logDrainUrl: d.logDrainUrl } : {}), ...(d.message !== undefined ? { message: d.message } : {})
})

/**
 * The config of a provision: `<PREFIX>_URL` (the vendor's, else MARKETGATE_SERVICE_URL) when
 * listed, the vendor's other vars, and the gateway's `<PREFIX>_API_KEY` unless left out.
 */
export function provisionConfig (settings: HerokuSettings, vendor: Record<string, string>, apiKey: string | undefined): Record<string, string> {
  const vars = configVarNames(settings)
  const listed = new Set(vars.all)
  const config: Record<string, string> = {}
  if (listed.has(vars.url)) config[vars.url] = settings.serviceUrl
  Object.assign(config, vendor)
  if (listed.has(vars.apiKey) && apiKey !== undefined) config[vars.apiKey] = apiKey
  return config
}

/** A hook that did not decide, where nothing can wait: Heroku gets a 503 and retries. */
export const undecided = (): MarketgateError =>
  new MarketgateError('UPSTREAM_UNAVAILABLE', 'the add-on provider has not decided yet; please retry')
