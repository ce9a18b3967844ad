import type { OAuthTokens } from '../../core/index.js'
import type { HerokuHttp, HerokuResult } from './heroku.http.js'

interface TokenResponse {
  access_token?: string
  refresh_token?: string
  expires_in?: number | null
}

/**
 * Heroku's OAuth token endpoint (`${idUrl}/oauth/token`, form-encoded): the provisioning
 * grant is exchanged for an access token (about 8 hours) and a refresh token; the refresh
 * token later buys new access tokens. Only the add-on's client secret authenticates us.
 */
export function createHerokuOAuth (deps: { http: HerokuHttp, idUrl: string, clientSecret: string, now: () => Date }) {
  const { http, idUrl, clientSecret, now } = deps

  async function token (form: Record<string, string>, refreshTokenFallback?: string): Promise<HerokuResult<OAuthTokens>> {
    const result = await http.call<TokenResponse>(`${idUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ ...form, client_secret: clientSecret }).toString()
    })
    if (!result.ok) return result
    const body = result.body ?? {}
    const refreshToken = body.refresh_token ?? refreshTokenFallback
    if (typeof body.access_token !== 'string' || typeof refreshToken !== 'string') {
      return { ok: false, transient: false, status: result.status, error: 'the token response has no access_token or refresh_token' }
    }
    // expires_in null means "no expiry"; treat it as Heroku's usual 8 hours so we still refresh.
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 28_800
    return { ok: true, status: result.status, body: { accessToken: body.access_token, refreshToken, expiresAt: new Date(now().getTime() + seconds * 1000) } }
  }

  return {
    /** Trades a provisioning grant code (valid about 5 minutes, once) for tokens. */
    exchange: (code: string) => token({ grant_type: 'authorization_code', code }),
    /** A new access token; Heroku may keep the refresh token, which then stays ours. */
    refresh: (refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken }, refreshToken)
  }
}

export type HerokuOAuth = ReturnType<typeof createHerokuOAuth>
