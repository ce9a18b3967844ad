import type { AccountReader, ClaimedJob, JobHandlers, JobOutcome, JobQueue, Lifecycle } from '../../core/index.js'
import { checkVendorConfig, grantOf, pendingQuestion, provisionConfig, type HerokuHook } from './heroku.hook.js'
import { HerokuJob, hookPolicy, platformPolicy } from './heroku.jobs.js'
import type { HerokuSettings } from './heroku.settings.js'
import type { HerokuLog } from './heroku.tokens.js'

export interface HookJobDeps {
  hook: HerokuHook
  settings: HerokuSettings
  lifecycle: Lifecycle
  accounts: Pick<AccountReader, 'getAccount'>
  jobs: JobQueue
  log: HerokuLog
}

/**
 * The retried decision of a provision the hook left undecided (the account is pending, Heroku
 * got a 202). Undecided again: retried with backoff. Refused: the account fails with the
 * vendor's message (`account.failed`). Allowed: the vendor's config is kept and, in the same
 * transaction, queued for Heroku's Platform API exactly as the async flow completes
 * (config push, then "provisioned").
 */
export function hookJobHandlers (deps: HookJobDeps): JobHandlers {
  const { hook, settings, lifecycle, accounts, jobs, log } = deps
  const checkConfig = checkVendorConfig(settings)

  async function decide (job: ClaimedJob): Promise<JobOutcome> {
    const account = await accounts.getAccount(job.accountId!)
    if (account === undefined) return { status: 'failed', error: 'account not found' }
    if (account.status !== 'pending') return { status: 'failed', error: `the account is ${account.status}, not pending` }
    const question = pendingQuestion(hook.productId, account)
    const decision = await hook.hook.decide(question, { checkConfig })
    if (decision.outcome === 'undecided') {
      if (job.attempt >= job.maxAttempts) {
        await lifecycle.execute({ accountId: account.id }, { type: 'updateMetadata', metadata: { provisioning_state: 'stalled', provisioning_error: `the vendor hook did not decide: ${decision.reason}` } })
        log.warn({ account: account.id, reason: decision.reason }, 'Heroku provisioning stalled: the vendor hook never decided')
      }
      return { status: 'retry', error: decision.reason }
    }
    if (decision.outcome === 'refused') {
      await lifecycle.execute({ accountId: account.id }, { type: 'fail', reason: decision.message })
      return { status: 'done' }
    }
    const grant = grantOf(decision, hook.hook.questionId(question))
    const config = provisionConfig(settings, decision.config, undefined)
    await lifecycle.execute({ accountId: account.id }, { type: 'updateMetadata', metadata: { provisioning_state: 'decided' } }, {
      within: async (tx) => {
        await hook.grants.saveWithin(tx, account.id, grant)
        await jobs.enqueueWithin(tx, {
          kind: HerokuJob.updateConfig, accountId: account.id, payload: { then_provision: true, vars: Object.keys(config) },
          secret: { config }, dedupeKey: `${HerokuJob.updateConfig}:hook:${account.id}`, maxAttempts: platformPolicy.maxAttempts
        })
      }
    })
    jobs.wake()
    return { status: 'done' }
  }

  return { [HerokuJob.hookDecide]: { run: decide, backoff: hookPolicy.backoff } }
}
