import {
  isMarketgateError, MarketgateError, type Account, type AccountKey, type Clock, type CredentialStore,
  type Lifecycle, type LoginHandoff, type LoginUser, type SessionCookie
} from '../../core/index.js'
import { unprocessable } from './heroku.errors.js'
import { regionAllowed } from './heroku.regions.js'
import type { PlanChangeBody, ProvisionBody, ProvisionReply } from './heroku.schemas.js'
import { configVarNames, type HerokuSettings } from './heroku.settings.js'
import { verifySsoClaim, type SsoClaim } from './heroku.sso.js'

export interface HerokuDeps {
  settings: HerokuSettings
  lifecycle: Lifecycle
  credentials: CredentialStore
  login: LoginHandoff
  clock: Clock
}

export interface SignIn extends SsoClaim {
  app?: string
}

const keyOf = (uuid: string): AccountKey => ({ marketplace: 'heroku', externalId: uuid })

/**
 * The Partner API in terms of the core lifecycle, without HTTP: each function is one
 * lifecycle command, and throws MarketgateErrors the plugin turns into Heroku's answers.
 */
export function createHerokuService (deps: HerokuDeps) {
  const { settings, lifecycle, credentials, login, clock } = deps
  const vars = configVarNames(settings)

  function checkPlan (plan: string): void {
    if (settings.plans !== undefined && !settings.plans.includes(plan)) {
      throw unprocessable(`plan "${plan}" is not offered; choose one of: ${settings.plans.join(', ')}`)
    }
  }

  function reply (uuid: string, account: Account, apiKey: string): ProvisionReply {
    return {
      id: uuid,
      config: { [vars.url]: settings.serviceUrl, [vars.apiKey]: apiKey },
      message: `${settings.addonName} is ready on plan ${account.plan ?? 'default'}.`
    }
  }

  return {
    /**
     * Creates the account (active) and its API key in one transaction, or, for a uuid seen
     * before, answers exactly as the first time. A cancelled uuid is GONE (410).
     */
    async provision (body: ProvisionBody): Promise<ProvisionReply> {
      checkPlan(body.plan)
      if (!regionAllowed(settings.regions, body.region)) {
        throw unprocessable(`region "${body.region ?? '(none)'}" is not offered; choose one of: ${settings.regions!.join(', ')}`)
      }
      let apiKey: string | undefined
      const result = await lifecycle.execute({ key: keyOf(body.uuid) }, { type: 'provision', plan: body.plan, metadata: factsOf(body) }, {
        createIfAbsent: true,
        within: async (tx, r) => { apiKey = await credentials.ensureApiKey(tx, r.account!.id) }
      })
      const account = result.account!
      apiKey ??= await credentials.currentApiKey(account.id)
      if (apiKey === undefined) throw new MarketgateError('INTERNAL', 'the account has no API key')
      return reply(body.uuid, account, apiKey)
    },

    /** Moves the account to another plan; the current plan again records nothing. */
    async changePlan (uuid: string, body: PlanChangeBody): Promise<{ message: string }> {
      checkPlan(body.plan)
      await lifecycle.execute({ key: keyOf(uuid) }, { type: 'changePlan', plan: body.plan })
      return { message: `${settings.addonName} is now on plan ${body.plan}.` }
    },

    /** Cancels the account; a second deprovision of the same uuid is GONE (410). */
    async deprovision (uuid: string): Promise<void> {
      const result = await lifecycle.execute({ key: keyOf(uuid) }, { type: 'cancel', reason: 'deprovisioned by Heroku' })
      if (result.outcome !== 'changed') throw new MarketgateError('GONE', 'the resource was already deprovisioned')
    },

    /**
     * Verifies a single sign-on, records `account.login`, and begins the login handoff.
     * Every refusal (token, time, unknown or cancelled account) is FORBIDDEN: the browser
     * gets a 403 page, and the token is checked first so ids cannot be probed.
     */
    async signIn (claim: SignIn): Promise<{ location: string, cookies: SessionCookie[] }> {
      const verdict = verifySsoClaim(claim, settings.ssoSalt ?? '', clock.now())
      if (!verdict.ok) throw new MarketgateError('FORBIDDEN', verdict.reason)
      const user: LoginUser = { email: claim.email ?? null, userId: claim.userId ?? null, app: claim.app ?? null, source: 'heroku' }
      try {
        const result = await lifecycle.execute({ key: keyOf(claim.resourceId) }, { type: 'login', user })
        return await login.begin(result.account!, user)
      } catch (err) {
        if (isMarketgateError(err) && ['NOT_FOUND', 'GONE', 'INVALID_TRANSITION'].includes(err.code)) {
          throw new MarketgateError('FORBIDDEN', 'this add-on is not active (unknown or deprovisioned)', { cause: err })
        }
        throw err
      }
    }
  }
}

export type HerokuService = ReturnType<typeof createHerokuService>

/**
 * The marketplace facts kept on the account. The OAuth grant code, the log drain token and the
 * log input URL (its user part is a logplex token) are credentials, so they are never copied
 * into metadata, which webhooks and /v1 show.
 */
function factsOf (body: ProvisionBody): Record<string, unknown> {
  const facts: Record<string, unknown> = {
    name: body.name, heroku_id: body.heroku_id, region: body.region, callback_url: body.callback_url,
    options: body.options
  }
  for (const k of Object.keys(facts)) if (facts[k] === undefined || facts[k] === null) delete facts[k]
  return facts
}
