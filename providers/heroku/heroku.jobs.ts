import type {
  AccountReader, ClaimedJob, Clock, CredentialStore, JobHandlers, JobOutcome, JobQueue, Lifecycle, OAuthTokenStore
} from '../../core/index.js'
import type { HerokuHook } from './heroku.hook.js'
import { hookJobHandlers } from './heroku.hook-job.js'
import type { HerokuOAuth } from './heroku.oauth.js'
import type { HerokuPlatform } from './heroku.platform.js'
import { configVarNames, type HerokuSettings } from './heroku.settings.js'
import { outcomeOf, type FailedOutcome, type HerokuLog, type HerokuTokens } from './heroku.tokens.js'

export const HerokuJob = {
  exchangeGrant: 'heroku.exchange_grant',
  fetchAppMetadata: 'heroku.fetch_app_metadata',
  updateConfig: 'heroku.update_config',
  provisionDone: 'heroku.provision_done',
  hookDecide: 'heroku.hook_decide'
} as const

/**
 * The grant code expires about 5 minutes after Heroku sends it: attempts come 1–2 s, 2–4 s,
 * 4–8 s … apart (capped at 1 min), six in all, so the last one is still inside the window.
 */
export const exchangePolicy = { maxAttempts: 6, backoff: { baseMs: 2000, capMs: 60_000 } }
/**
 * Asking an undecided hook again: from 5 s up to 30 min apart, 30 attempts, about 12 hours in
 * all — Heroku's own window for an asynchronous provision.
 */
export const hookPolicy = { maxAttempts: 30, backoff: { baseMs: 5000, capMs: 30 * 60_000 } }
/** Platform API calls: 12 attempts from 5 s up to 30 min apart, about 2 hours in all, well inside Heroku's 12 h. */
export const platformPolicy = { maxAttempts: 12, backoff: { baseMs: 5000, capMs: 30 * 60_000 } }

export interface HerokuJobDeps {
  settings: HerokuSettings
  lifecycle: Lifecycle
  accounts: Pick<AccountReader, 'getAccount'>
  credentials: CredentialStore
  tokens: OAuthTokenStore
  jobs: JobQueue
  oauth: HerokuOAuth
  platform: HerokuPlatform
  herokuTokens: HerokuTokens
  clock: Clock
  log: HerokuLog
  /** The vendor's hook: adds the retried decision of an undecided provision. */
  hook?: HerokuHook
}

const lastTry = (job: ClaimedJob) => job.attempt >= job.maxAttempts

/** The four Heroku jobs: exchange the grant, fetch app facts, push config, mark provisioned. */
export function herokuJobHandlers (deps: HerokuJobDeps): JobHandlers {
  const { settings, lifecycle, accounts, credentials, tokens, jobs, oauth, platform, herokuTokens, clock, log } = deps
  const vars = configVarNames(settings)

  /** An async provision that cannot finish: visible on the account, beside the dead job. */
  async function provisioningStalled (accountId: string, error: string): Promise<void> {
    await lifecycle.execute({ accountId }, { type: 'updateMetadata', metadata: { provisioning_state: 'stalled', provisioning_error: error } })
    log.warn({ account: accountId, error }, 'Heroku asynchronous provisioning stalled')
  }

  async function exchangeGrant (job: ClaimedJob): Promise<JobOutcome> {
    const accountId = job.accountId!
    const code = job.secret?.code
    if (typeof code !== 'string') return { status: 'failed', error: 'the job carries no grant code' }
    const result = await oauth.exchange(code)
    if (!result.ok) {
      const outcome = outcomeOf(result, 'grant exchange')
      // An expired or used code (invalid_grant) never works: record it now; a transient
      // failure is recorded only when the attempts run out.
      if (outcome.status === 'failed' || lastTry(job)) await herokuTokens.record(accountId, { status: 'failed', error: outcome.error })
      return outcome
    }
    await tokens.save(accountId, result.body)
    await herokuTokens.record(accountId, { status: 'active' })
    if (await jobs.enqueue({ kind: HerokuJob.fetchAppMetadata, accountId, dedupeKey: `${HerokuJob.fetchAppMetadata}:${accountId}`, maxAttempts: platformPolicy.maxAttempts })) jobs.wake()
    return { status: 'done' }
  }

  async function fetchAppMetadata (job: ClaimedJob): Promise<JobOutcome> {
    const account = await accounts.getAccount(job.accountId!)
    if (account === undefined) return { status: 'failed', error: 'account not found' }
    const token = await herokuTokens.accessToken(account.id)
    if (!token.ok) return token.outcome
    const addon = await platform.getAddon(token.token, account.externalId)
    if (!addon.ok) return outcomeOf(addon, 'GET /addons')
    let ownerEmail: string | null = null
    if (addon.body.app?.id) {
      const app = await platform.getApp(token.token, addon.body.app.id)
      if (!app.ok && app.transient) return outcomeOf(app, 'GET /apps')
      // An app the add-on token may not read (403) still leaves its name and plan.
      if (app.ok) ownerEmail = app.body.owner?.email ?? null
    }
    await lifecycle.execute({ accountId: account.id }, {
      type: 'updateMetadata',
      metadata: {
        heroku_app: { id: addon.body.app?.id ?? null, name: addon.body.app?.name ?? null, owner_email: ownerEmail },
        heroku_plan: addon.body.plan?.name ?? null,
        heroku_addon: { name: addon.body.name ?? null, state: addon.body.state ?? null, fetched_at: clock.now().toISOString() }
      }
    })
    return { status: 'done' }
  }

  async function updateConfig (job: ClaimedJob): Promise<JobOutcome> {
    const account = await accounts.getAccount(job.accountId!)
    if (account === undefined) return { status: 'failed', error: 'account not found' }
    if (account.status === 'cancelled' || account.status === 'failed') return { status: 'failed', error: `the account is ${account.status}` }
    const completing = job.payload.then_provision === true
    const token = await herokuTokens.accessToken(account.id)
    if (!token.ok) return stalledIf(completing, job, account.id, token.outcome)
    const config: Record<string, string> = { ...(job.secret?.config as Record<string, string> | undefined) }
    // The key is read now, not when the job was queued: after two quick rotations both pushes send the newest.
    const apiKey = await credentials.currentApiKey(account.id)
    if (apiKey !== undefined && vars.hasApiKey) config[vars.apiKey] = apiKey
    const result = await platform.updateConfig(token.token, account.externalId, config)
    if (!result.ok) return stalledIf(completing, job, account.id, outcomeOf(result, 'PATCH /addons/config'))
    if (completing) {
      await jobs.enqueue({ kind: HerokuJob.provisionDone, accountId: account.id, dedupeKey: `${HerokuJob.provisionDone}:${account.id}`, maxAttempts: platformPolicy.maxAttempts })
      jobs.wake()
    }
    return { status: 'done' }
  }

  async function provisionDone (job: ClaimedJob): Promise<JobOutcome> {
    const account = await accounts.getAccount(job.accountId!)
    if (account === undefined) return { status: 'failed', error: 'account not found' }
    if (account.status !== 'pending') return { status: 'failed', error: `the account is ${account.status}, not pending` }
    const token = await herokuTokens.accessToken(account.id)
    if (!token.ok) return stalledIf(true, job, account.id, token.outcome)
    const result = await platform.markProvisioned(token.token, account.externalId)
    if (!result.ok) return stalledIf(true, job, account.id, outcomeOf(result, 'POST /addons/actions/provision'))
    await lifecycle.execute({ accountId: account.id }, {
      type: 'activate', metadata: { provisioning_state: 'provisioned', provisioning_error: null }
    })
    return { status: 'done' }
  }

  async function stalledIf (completing: boolean, job: ClaimedJob, accountId: string, outcome: FailedOutcome): Promise<JobOutcome> {
    if (completing && (outcome.status === 'failed' || lastTry(job))) {
      await provisioningStalled(accountId, outcome.error)
    }
    return outcome
  }

  return {
    [HerokuJob.exchangeGrant]: { run: exchangeGrant, backoff: exchangePolicy.backoff },
    [HerokuJob.fetchAppMetadata]: { run: fetchAppMetadata, backoff: platformPolicy.backoff },
    [HerokuJob.updateConfig]: { run: updateConfig, backoff: platformPolicy.backoff },
    [HerokuJob.provisionDone]: { run: provisionDone, backoff: platformPolicy.backoff },
    ...(deps.hook === undefined ? {} : hookJobHandlers({ hook: deps.hook, settings, lifecycle, accounts, jobs, log }))
  }
}
