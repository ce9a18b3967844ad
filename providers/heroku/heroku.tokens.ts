import type { AccountReader, Clock, JobOutcome, Lifecycle, OAuthTokenStore } from '../../core/index.js'
import type { HerokuResult } from './heroku.http.js'
import type { HerokuOAuth } from './heroku.oauth.js'

/** Refresh this long before the access token expires: a Platform API call never races its expiry. */
export const refreshWindowMs = 5 * 60_000

/** Where the provider writes what it logs; pino fits. Never given a credential. */
export interface HerokuLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export type FailedOutcome = Exclude<JobOutcome, { status: 'done' }>
export type TokenResult = { ok: true, token: string } | { ok: false, outcome: FailedOutcome }

/** A failed call as a job outcome: transient ones retry (after Retry-After when given). */
export function outcomeOf (result: Extract<HerokuResult<unknown>, { ok: false }>, what: string): FailedOutcome {
  const error = `${what}: ${result.error}`
  return result.transient ? { status: 'retry', error, retryAfterMs: result.retryAfterMs } : { status: 'failed', error }
}

/**
 * The OAuth side of one add-on: the state of its grant, kept visible on the account
 * (`metadata.heroku_oauth`: `active` or `failed` with the error and time), and a valid access
 * token for each Platform API call, refreshed when it is within 5 minutes of expiry.
 */
export function createHerokuTokens (deps: {
  tokens: OAuthTokenStore, oauth: HerokuOAuth, lifecycle: Lifecycle, accounts: Pick<AccountReader, 'getAccount'>, clock: Clock, log: HerokuLog
}) {
  const { tokens, oauth, lifecycle, accounts, clock, log } = deps

  async function record (accountId: string, state: { status: 'active' } | { status: 'failed', error: string }): Promise<void> {
    const heroku_oauth = { ...state, at: clock.now().toISOString() }
    await lifecycle.execute({ accountId }, { type: 'updateMetadata', metadata: { heroku_oauth } })
    if (state.status === 'failed') log.warn({ account: accountId, error: state.error }, 'Heroku OAuth failed for this add-on')
  }

  return {
    record,

    async accessToken (accountId: string): Promise<TokenResult> {
      const current = await tokens.get(accountId)
      if (current === undefined) {
        const account = await accounts.getAccount(accountId)
        const oauthState = account?.metadata.heroku_oauth as { status?: string } | undefined
        const error = 'no Heroku OAuth token for this add-on (the grant was not exchanged)'
        // While the exchange may still succeed, wait for it; once it failed, nothing will change.
        return { ok: false, outcome: { status: oauthState?.status === 'failed' ? 'failed' : 'retry', error } }
      }
      if (current.expiresAt.getTime() - clock.now().getTime() > refreshWindowMs) return { ok: true, token: current.accessToken }
      const refreshed = await oauth.refresh(current.refreshToken)
      if (!refreshed.ok) {
        if (!refreshed.transient) await record(accountId, { status: 'failed', error: `refresh: ${refreshed.error}` })
        return { ok: false, outcome: outcomeOf(refreshed, 'token refresh') }
      }
      await tokens.save(accountId, refreshed.body)
      log.info({ account: accountId, expires_at: refreshed.body.expiresAt.toISOString() }, 'Heroku access token refreshed')
      return { ok: true, token: refreshed.body.accessToken }
    }
  }
}

export type HerokuTokens = ReturnType<typeof createHerokuTokens>
