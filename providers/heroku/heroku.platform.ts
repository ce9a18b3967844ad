import type { HerokuHttp, HerokuResult } from './heroku.http.js'

/** The parts of Heroku's add-on object Marketgate reads (GET /addons/:id). */
export interface HerokuAddon {
  id: string
  name?: string
  state?: string
  app?: { id?: string, name?: string }
  plan?: { id?: string, name?: string }
}

export interface HerokuApp {
  id: string
  name?: string
  owner?: { id?: string, email?: string }
}

/**
 * The Platform API calls an add-on partner makes for one resource, with the resource's own
 * OAuth token. Every call says `Accept: application/vnd.heroku+json; version=3`.
 */
export function createHerokuPlatform (deps: { http: HerokuHttp, apiUrl: string }) {
  const { http, apiUrl } = deps
  const headers = (token: string, json = false): Record<string, string> => ({
    accept: 'application/vnd.heroku+json; version=3',
    authorization: `Bearer ${token}`,
    ...(json ? { 'content-type': 'application/json' } : {})
  })
  const addon = (id: string) => `${apiUrl}/addons/${encodeURIComponent(id)}`

  return {
    getAddon: (token: string, id: string): Promise<HerokuResult<HerokuAddon>> =>
      http.call(addon(id), { method: 'GET', headers: headers(token) }),

    getApp: (token: string, appId: string): Promise<HerokuResult<HerokuApp>> =>
      http.call(`${apiUrl}/apps/${encodeURIComponent(appId)}`, { method: 'GET', headers: headers(token) }),

    /** Sets the named config vars (others stay as they are); a release follows on the apps. */
    updateConfig: (token: string, id: string, config: Record<string, string>): Promise<HerokuResult<unknown>> =>
      http.call(`${addon(id)}/config`, {
        method: 'PATCH',
        headers: headers(token, true),
        body: JSON.stringify({ config: Object.entries(config).map(([name, value]) => ({ name, value })) })
      }),

    /** Marks an asynchronously provisioned resource as provisioned: billing starts, apps restart. */
    markProvisioned: (token: string, id: string): Promise<HerokuResult<HerokuAddon>> =>
      http.call(`${addon(id)}/actions/provision`, { method: 'POST', headers: headers(token) })
  }
}

export type HerokuPlatform = ReturnType<typeof createHerokuPlatform>
