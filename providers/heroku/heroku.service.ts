import {
  isMarketgateError, MarketgateError, type Account, type AccountKey, type Attachment, type AccountReader, type Clock, type CredentialStore,
  type HookGrant, type JobQueue, type Lifecycle, type LoginHandoff, type LoginUser, type SessionCookie
} from '../../core/index.js'
import { unprocessable } from './heroku.errors.js'
import { regionAllowed } from './heroku.regions.js'
import { exchangePolicy, HerokuJob, hookPolicy } from './heroku.jobs.js'
import { checkVendorConfig, grantOf, planChangeQuestion, provisionConfig, provisionQuestion, undecided, type HerokuHook } from './heroku.hook.js'
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
  /** The vendor's hook (contract §7); without it every provision and plan change is allowed. */
  hook?: HerokuHook
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

  function reply (uuid: string, account: Account, apiKey: string | undefined, grant: HookGrant | undefined): ProvisionReply {
    return {
      id: uuid,
      config: provisionConfig(settings, grant?.config ?? {}, apiKey),
      ...(grant?.logDrainUrl !== undefined ? { log_drain_url: grant.logDrainUrl } : {}),
      message: grant?.message ?? `${settings.addonName} is ready on plan ${account.plan ?? 'default'}.`
    }
  }

  const checkConfig = checkVendorConfig(settings)
  const planReply = (message: string, config: Record<string, string>) => Object.keys(config).length > 0 ? { message, config } : { message }

  /**
   * Asks the hook about a new resource. Refused: a 422 (nothing is written). Allowed: the
   * grant to store and answer with (asynchronous plans: the vendor completes through /v1).
   * Undecided: `later` when the add-on can finish asynchronously (an OAuth client secret and
   * a grant in this request), else a 503 and nothing written.
   */
  async function askProvision (hook: HerokuHook, body: ProvisionBody, async: boolean): Promise<{ grant?: HookGrant, later?: boolean }> {
    const question = provisionQuestion(hook.productId, body)
    const decision = await hook.hook.decide(question, { checkConfig })
    if (decision.outcome === 'refused') throw unprocessable(decision.message)
    if (async) return {}
    if (decision.outcome === 'allowed') return { grant: grantOf(decision, hook.hook.questionId(question)) }
    if (deps.jobs !== undefined && body.oauth_grant?.code) return { later: true }
    throw undecided()
  }

  /** The retried ask of an undecided provision, written with its pending account. */
  function decideLater (): Attachment {
    return deps.jobs!.prepare({
      kind: HerokuJob.hookDecide, dedupeKey: (accountId) => `${HerokuJob.hookDecide}:${accountId}`, maxAttempts: hookPolicy.maxAttempts, payload: {}
    })
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
      const hook = deps.hook
      // A repeat must answer as the first call did, even if the async settings changed since;
      // with no async settings and no hook there is nothing to look up (one round trip less).
      const asyncConfigured = settings.provisioning === 'async' || (settings.asyncPlans ?? []).length > 0
      const known = asyncConfigured || hook !== undefined ? await deps.accounts?.findAccount(keyOf(body.uuid)) : undefined
      const async = known !== undefined ? known.metadata.provisioning === 'async' : isAsyncPlan(settings, body.plan)
      // Only a new resource asks the hook (contract §7): a repeat answers from what the first call stored.
      const asked = hook !== undefined && known === undefined ? await askProvision(hook, body, async) : undefined
      const pendingMode = async || asked?.later === true || known?.metadata.provisioning === 'hook'
      const mode = async ? { provisioning: 'async' } : asked?.later === true ? { provisioning: 'hook' } : {}
      const metadata = { ...factsOf(body), ...mode }
      // A new account is written in one statement with its API key, the grant exchange and
      // the vendor's config; for an existing one, all are dropped and the key is the one it has.
      const prepared = vars.hasApiKey ? credentials.prepareApiKey() : undefined
      const exchange = grantExchange(body)
      const attachments = [prepared?.attachment, exchange, asked?.grant && hook!.grants.prepare(asked.grant), asked?.later === true ? decideLater() : undefined]
        .filter((a): a is Attachment => a !== undefined)
      const result = await lifecycle.execute({ key: keyOf(body.uuid) }, pendingMode
        ? { type: 'pending', plan: body.plan, metadata }
        : { type: 'provision', plan: body.plan, metadata }, { createIfAbsent: true, attachOnCreate: attachments })
      if (result.created && (exchange !== undefined || asked?.later === true)) deps.jobs?.wake()
      const account = result.account!
      if (pendingMode) return { status: 202, body: { id: body.uuid, message: `${settings.addonName} is being provisioned; it will be ready shortly.` } }
      // An existing account without a key (made before keys existed, or by another path) gets
      // one now, under its row lock, so that a 200 always carries a working key.
      let apiKey: string | undefined
      if (prepared !== undefined) {
        apiKey = result.created ? prepared.key : await credentials.currentApiKey(account.id) ?? await credentials.ensureApiKeyOf(account.id)
        if (apiKey === undefined) throw new MarketgateError('INTERNAL', 'the account has no API key')
      }
      const grant = result.created ? asked?.grant : hook === undefined ? undefined : await hook.grants.latest(account.id)
      return { status: 200, body: reply(body.uuid, account, apiKey, grant) }
    },

    /**
     * Moves the account to another plan; the current plan again records nothing. With a hook,
     * the vendor decides first: refused is a 422 and the plan stays, undecided a 503.
     */
    async changePlan (uuid: string, body: PlanChangeBody): Promise<{ message: string, config?: Record<string, string> }> {
      checkPlan(body.plan)
      const hook = deps.hook
      const account = hook === undefined ? undefined : await deps.accounts?.findAccount(keyOf(uuid))
      const done = `${settings.addonName} is now on plan ${body.plan}.`
      if (hook === undefined || account === undefined || account.status === 'cancelled' || account.status === 'failed') {
        await lifecycle.execute({ key: keyOf(uuid) }, { type: 'changePlan', plan: body.plan })
        return { message: done }
      }
      const question = planChangeQuestion(hook.productId, account, body.plan)
      const id = hook.hook.questionId(question)
      if (account.plan === body.plan) {
        // A repeat of a change already made answers as it did, without asking again.
        const before = await hook.grants.latest(account.id)
        return before?.questionId === id ? planReply(before.message ?? done, before.config) : { message: done }
      }
      const decision = await hook.hook.decide(question, { checkConfig })
      if (decision.outcome === 'refused') throw unprocessable(decision.message)
      if (decision.outcome === 'undecided') throw undecided()
      const grant = grantOf(decision, id)
      await lifecycle.execute({ key: keyOf(uuid) }, { type: 'changePlan', plan: body.plan }, {
        within: async (tx, result) => { if (result.account !== undefined) await hook.grants.saveWithin(tx, result.account.id, grant) }
      })
      return planReply(decision.message ?? done, decision.config)
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
