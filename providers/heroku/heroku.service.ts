import {
  isMarketgateError, MarketgateError, type Account, type AccountKey, type Attachment, type AccountReader, type Clock, type CredentialStore,
  type JobQueue, type Lifecycle, type LoginHandoff, type LoginUser, type SessionCookie
} from '../../core/index.js'
import { unprocessable } from './heroku.errors.js'
import { regionAllowed } from './heroku.regions.js'
import { exchangePolicy, HerokuJob } from './heroku.jobs.js'
import type { AsyncProvisionReply, PlanChangeBody, ProvisionBody, ProvisionReply } from './heroku.schemas.js'
import { configVarNames, isAsyncPlan, type HerokuSettings } from './heroku.settings.js'
import { verifySignIn, type SsoClaim } from './heroku.sso.js'

export interface HerokuDeps {
  settings: HerokuSettings
  lifecycle: Lifecycle
  credentials: CredentialStore
  login: LoginHandoff
  clock: Clock
  /** Where grant exchanges and Platform API calls are queued; without it grants are not exchanged. */
  jobs?: JobQueue
  /** Lets a repeated provision answer in the mode the resource was first provisioned in. */
  accounts?: Pick<AccountReader, 'findAccount'>
}

export type ProvisionAnswer = { status: 200, body: ProvisionReply } | { status: 202, body: AsyncProvisionReply }

export interface SignIn extends SsoClaim {
  app?: string
}


/**
 * The Partner API in terms of the core lifecycle, without HTTP: each function is one
 * lifecycle command, and throws MarketgateErrors the plugin turns into Heroku's answers.
 */
export function createHerokuService (deps: HerokuDeps) {
  const { settings, lifecycle, credentials, login, clock } = deps
  const vars = configVarNames(settings)
  const keyOf = (uuid: string): AccountKey => ({ product: settings.productId, marketplace: 'heroku', externalId: uuid })

  function checkPlan (plan: string): void {
    if (settings.plans !== undefined && !settings.plans.includes(plan)) {
      throw unprocessable(`plan "${plan}" is not offered; choose one of: ${settings.plans.join(', ')}`)
    }
  }

  /**
   * The exchange of the OAuth grant, queued with the account it belongs to (committed provision
   * ⇒ queued exchange). The grant code is a credential: it travels sealed in the job and is
   * dropped once used. Undefined without a code or without a queue.
   */
  function grantExchange (body: ProvisionBody): Attachment | undefined {
    const code = body.oauth_grant?.code
    if (!code || deps.jobs === undefined) return undefined
    return deps.jobs.prepare({
      kind: HerokuJob.exchangeGrant, secret: { code }, dedupeKey: (accountId) => `${HerokuJob.exchangeGrant}:${accountId}`,
      maxAttempts: exchangePolicy.maxAttempts, payload: { grant_expires_at: body.oauth_grant?.expires_at ?? null }
    })
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
     * Creates the account and its API key in one atomic write, and queues the exchange of the
     * OAuth grant in it too (committed provision ⇒ queued exchange). Synchronous: the account
     * is active and the answer carries the config. Asynchronous (HEROKU_PROVISIONING=async or
     * a plan in HEROKU_ASYNC_PLANS): the account is pending and the answer is a 202 without
     * config. A uuid seen before answers exactly as the first time; a cancelled one is GONE.
     */
    async provision (body: ProvisionBody): Promise<ProvisionAnswer> {
      checkPlan(body.plan)
      if (!regionAllowed(settings.regions, body.region)) {
        throw unprocessable(`region "${body.region ?? '(none)'}" is not offered; choose one of: ${settings.regions!.join(', ')}`)
      }
      // A repeat must answer as the first call did, even if the async settings changed since;
      // with no async settings at all there is nothing to look up (one round trip less).
      const asyncConfigured = settings.provisioning === 'async' || (settings.asyncPlans ?? []).length > 0
      const known = asyncConfigured ? await deps.accounts?.findAccount(keyOf(body.uuid)) : undefined
      const async = known !== undefined ? known.metadata.provisioning === 'async' : isAsyncPlan(settings, body.plan)
      const metadata = { ...factsOf(body), ...(async ? { provisioning: 'async' } : {}) }
      // A new account is written in one statement with its API key and the grant exchange;
      // for an existing one, both are dropped and the key is the one it has.
      const prepared = credentials.prepareApiKey()
      const exchange = grantExchange(body)
      const result = await lifecycle.execute({ key: keyOf(body.uuid) }, async
        ? { type: 'pending', plan: body.plan, metadata }
        : { type: 'provision', plan: body.plan, metadata }, {
        createIfAbsent: true,
        attachOnCreate: exchange === undefined ? [prepared.attachment] : [prepared.attachment, exchange]
      })
      if (result.created && exchange !== undefined) deps.jobs?.wake()
      const account = result.account!
      if (async) return { status: 202, body: { id: body.uuid, message: `${settings.addonName} is being provisioned; it will be ready shortly.` } }
      // An existing account without a key (made before keys existed, or by another path) gets
      // one now, under its row lock, so that a 200 always carries a working key.
      const apiKey = result.created ? prepared.key : await credentials.currentApiKey(account.id) ?? await credentials.ensureApiKeyOf(account.id)
      if (apiKey === undefined) throw new MarketgateError('INTERNAL', 'the account has no API key')
      return { status: 200, body: reply(body.uuid, account, apiKey) }
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
      const verdict = verifySignIn(claim, settings.ssoSalt ?? '', clock.now())
      if (!verdict.ok) throw new MarketgateError('FORBIDDEN', verdict.reason)
      // Only what the token signs: without the user-scoped token the user is unknown.
      const user: LoginUser = { email: verdict.identity.email, userId: verdict.identity.userId, app: claim.app ?? null, source: 'heroku' }
      try {
        // A link signs in once: its id (the signed resource and time) is recorded with the login,
        // so a link replayed within its 5 minutes (history, a log, a shared URL) is refused.
        const result = await lifecycle.execute({ key: keyOf(claim.resourceId) }, { type: 'login', user }, { messageId: verdict.linkId })
        if (result.outcome === 'duplicate') throw new MarketgateError('FORBIDDEN', 'this sign-in link was already used; open the add-on again from the Heroku dashboard')
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
