import { MarketgateError, notFound, type Account } from '../../core/index.js'
import { HerokuJob, platformPolicy, type HerokuJobDeps } from './heroku.jobs.js'
import { configVarNames } from './heroku.settings.js'

/** Config var names Heroku accepts: the manifest's prefix, then an identifier. */
const varName = /^[A-Z][A-Z0-9_]*$/
const maxVars = 50

/** What the vendor-side actions share with the jobs they queue. */
export interface HerokuVendorDeps extends Pick<HerokuJobDeps, 'settings' | 'lifecycle' | 'accounts' | 'credentials' | 'tokens' | 'jobs' | 'clock'> {
  /** How long a rotated-out API key keeps working (HEROKU_CREDENTIAL_GRACE_SECONDS). */
  graceMs: number
}

const conflict = (message: string) => new MarketgateError('CONFLICT', message)

/**
 * What the vendor's services ask of a Heroku add-on through /v1: finish (or fail) an
 * asynchronous provision, and rotate the API key. Each is one lifecycle change that queues
 * its Platform API calls in the same transaction.
 */
export function createHerokuVendorService (deps: HerokuVendorDeps) {
  const { settings, lifecycle, accounts, credentials, tokens, jobs, clock } = deps
  const vars = configVarNames(settings)

  async function herokuAccount (id: string): Promise<Account> {
    const account = await accounts.getAccount(id)
    if (account === undefined) throw notFound('account')
    if (account.marketplace !== 'heroku') throw new MarketgateError('INVALID_TRANSITION', 'this is not a Heroku add-on account')
    return account
  }

  async function awaitingCompletion (id: string): Promise<Account> {
    const account = await herokuAccount(id)
    if (account.metadata.provisioning !== 'async') throw conflict('this add-on was provisioned synchronously')
    if (account.status !== 'pending') throw conflict(`the account is ${account.status}, not pending`)
    if (account.metadata.provisioning_state === 'completing') throw conflict('the provisioning is already being completed')
    return account
  }

  /** The vendor's config vars, checked as Heroku will: the prefix, and never our API key. */
  function checkConfig (config: Record<string, string>): void {
    const names = Object.keys(config)
    if (names.length > maxVars) throw new MarketgateError('VALIDATION_FAILED', `at most ${maxVars} config vars`)
    for (const name of names) {
      if (!varName.test(name) || !name.startsWith(`${settings.configVarsPrefix}_`)) {
        throw new MarketgateError('VALIDATION_FAILED', `config var ${name} must start with ${settings.configVarsPrefix}_ (and be listed in the manifest's config_vars)`)
      }
      if (name === vars.apiKey) throw new MarketgateError('VALIDATION_FAILED', `${vars.apiKey} is the gateway's own key; rotate it with /rotate-credentials`)
    }
  }

  return {
    /**
     * The vendor's resource is ready: its config vars (plus `<PREFIX>_URL`, unless it sets its
     * own, and the gateway's `<PREFIX>_API_KEY`) go to Heroku with PATCH /addons/:id/config,
     * then POST /addons/:id/actions/provision, as retried jobs; the account turns active
     * with `account.provisioned` when Heroku accepts the second.
     */
    async completeProvisioning (accountId: string, config: Record<string, string>): Promise<Account> {
      checkConfig(config)
      const before = await awaitingCompletion(accountId)
      const result = await lifecycle.execute({ accountId }, {
        type: 'updateMetadata', metadata: { provisioning_state: 'completing', provisioning_error: null, provisioning_completed_at: clock.now().toISOString() }
      }, {
        within: async (tx, r) => {
          const queued = await jobs.enqueueWithin(tx, {
            kind: HerokuJob.updateConfig, accountId, payload: { then_provision: true, vars: Object.keys(config) },
            secret: { config: { [vars.url]: settings.serviceUrl, ...config } },
            // Two concurrent completions read the same version and collide here; a retry after
            // a stall reads a later version and goes through.
            dedupeKey: `${HerokuJob.updateConfig}:complete:${accountId}:${before.version}`, maxAttempts: platformPolicy.maxAttempts
          })
          if (!queued || r.account?.status !== 'pending') throw conflict('the provisioning is already being completed')
        }
      })
      // Unchanged: a concurrent completion wrote the very same facts first (same instant), so
      // `within` did not run and nothing was queued by this call: it is the loser of the race.
      if (result.outcome !== 'changed') throw conflict('the provisioning is already being completed')
      jobs.wake()
      return result.account!
    },

    /** The vendor could not provision: the account fails (`account.failed`); Heroku drops the resource at its 12-hour limit. */
    async failProvisioning (accountId: string, error: string): Promise<Account> {
      await awaitingCompletion(accountId)
      const result = await lifecycle.execute({ accountId }, {
        type: 'fail', reason: error, metadata: { provisioning_state: 'failed', provisioning_error: error }
      })
      return result.account!
    },

    /**
     * A new API key, pushed to the apps with PATCH /addons/:id/config; the old one keeps
     * working for the grace period, so dynos restarting onto the new config never hold a dead key.
     */
    async rotateCredentials (accountId: string): Promise<{ account: Account, previousValidUntil: Date }> {
      await herokuAccount(accountId)
      if (await tokens.get(accountId) === undefined) {
        throw conflict('this add-on has no Heroku OAuth token (no grant was exchanged), so a new key could not reach its apps')
      }
      const result = await lifecycle.execute({ accountId }, { type: 'rotateCredentials' }, {
        within: async (tx) => {
          await credentials.rotateApiKey(tx, accountId, deps.graceMs)
          await jobs.enqueueWithin(tx, { kind: HerokuJob.updateConfig, accountId, payload: { reason: 'rotation' }, maxAttempts: platformPolicy.maxAttempts })
        }
      })
      jobs.wake()
      return { account: result.account!, previousValidUntil: new Date(clock.now().getTime() + deps.graceMs) }
    }
  }
}

export type HerokuVendorService = ReturnType<typeof createHerokuVendorService>
