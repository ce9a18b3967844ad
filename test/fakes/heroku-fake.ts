import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the fake received, for assertions on headers and bodies. */
export interface HerokuFakeRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
  /** The form fields (OAuth) or the JSON body (Platform API). */
  form?: Record<string, string>
  json?: unknown
}

/** A scripted answer: a status, optional Retry-After, optional body. */
export interface Scripted { status: number, retryAfter?: string, body?: unknown }

export const fakeClientSecret = 'oauth-client-secret-7d1e4f'

/**
 * A local fake of id.heroku.com (`POST /oauth/token`) and api.heroku.com (the add-on calls a
 * partner makes), on one port. Grant codes are registered per test; `expired` ones answer
 * 400 invalid_grant. Failures are scripted per route (`POST /oauth/token`,
 * `PATCH /addons/config`, …) and answered in order before normal service resumes.
 */
export class HerokuFake {
  readonly requests: HerokuFakeRequest[] = []
  /** code → resource uuid it was issued for, or 'expired'. */
  readonly grants = new Map<string, string | 'expired'>()
  /** access token → resource uuid. */
  readonly accessTokens = new Map<string, string>()
  readonly refreshTokens = new Map<string, string>()
  /** resource uuid → config vars as Heroku holds them. */
  readonly config = new Map<string, Record<string, string | null>>()
  readonly states = new Map<string, string>()
  readonly failures = new Map<string, Scripted[]>()
  expiresIn = 28799
  readonly #waiters: Array<{ route: string, resolve: (r: HerokuFakeRequest) => void }> = []
  #issued = 0
  #server: Server | undefined
  url = ''

  async start (): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const path = (req.url ?? '/').split('?')[0]!
        const entry: HerokuFakeRequest = { method: req.method ?? 'GET', path, headers: req.headers, body }
        if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
          entry.form = Object.fromEntries(new URLSearchParams(body))
        } else if (body !== '') {
          try { entry.json = JSON.parse(body) } catch { entry.json = undefined }
        }
        this.requests.push(entry)
        for (const w of this.#waiters.filter((w) => w.route === routeOf(entry))) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1)
          w.resolve(entry)
        }
        const reply: Scripted = this.#failure(entry) ?? this.#dispatch(entry)
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (reply.retryAfter !== undefined) headers['retry-after'] = reply.retryAfter
        res.writeHead(reply.status, headers)
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body))
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  async stop (): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()))
  }

  reset (): void {
    this.requests.length = 0
    this.grants.clear()
    this.accessTokens.clear()
    this.refreshTokens.clear()
    this.config.clear()
    this.states.clear()
    this.failures.clear()
    this.expiresIn = 28799
  }

  /** Answers for the next calls of a route (see `routeOf`), in order. */
  fail (route: string, ...answers: Scripted[]): void {
    this.failures.set(route, [...(this.failures.get(route) ?? []), ...answers])
  }

  /** The next request of a route, as it arrives (no polling, no sleeping). */
  next (route: string): Promise<HerokuFakeRequest> {
    return new Promise((resolve) => { this.#waiters.push({ route, resolve }) })
  }

  calls (route: string): HerokuFakeRequest[] {
    return this.requests.filter((r) => routeOf(r) === route)
  }

  #failure (r: HerokuFakeRequest): { status: number, retryAfter?: string, body?: unknown } | undefined {
    const queue = this.failures.get(routeOf(r))
    const next = queue?.shift()
    if (next === undefined) return undefined
    return { status: next.status, retryAfter: next.retryAfter, body: next.body ?? { id: next.status === 429 ? 'rate_limit' : 'internal_server_error', message: 'scripted failure' } }
  }

  #issue (uuid: string) {
    const n = ++this.#issued
    const access = `hk-access-${n}-${uuid.slice(0, 8)}`
    const refresh = `hk-refresh-${n}-${uuid.slice(0, 8)}`
    this.accessTokens.set(access, uuid)
    this.refreshTokens.set(refresh, uuid)
    return { access_token: access, refresh_token: refresh, expires_in: this.expiresIn, token_type: 'Bearer', user_id: 'user-1', session_nonce: null }
  }

  #dispatch (r: HerokuFakeRequest): { status: number, body?: unknown } {
    if (r.method === 'POST' && r.path === '/oauth/token') return this.#token(r.form ?? {})
    const auth = /^Bearer (.+)$/.exec(String(r.headers.authorization ?? ''))
    const owner = auth ? this.accessTokens.get(auth[1]!) : undefined
    if (owner === undefined) return { status: 401, body: { id: 'unauthorized', message: 'Invalid credentials provided.' } }
    if (r.headers.accept !== 'application/vnd.heroku+json; version=3') return { status: 400, body: { id: 'bad_request', message: 'version required' } }
    const addon = /^\/addons\/([^/]+)(\/.*)?$/.exec(r.path)
    if (addon) {
      const [, id, rest = ''] = addon
      if (id !== owner) return { status: 403, body: { id: 'forbidden', message: 'not your add-on' } }
      if (r.method === 'GET' && rest === '') return { status: 200, body: this.#addon(id) }
      if (r.method === 'PATCH' && rest === '/config') {
        const items = (r.json as { config?: Array<{ name: string, value: string | null }> } | undefined)?.config
        if (!Array.isArray(items)) return { status: 422, body: { id: 'invalid_params', message: 'config is required' } }
        const vars = { ...this.config.get(id) }
        for (const { name, value } of items) vars[name] = value
        this.config.set(id, vars)
        return { status: 200, body: Object.entries(vars).map(([name, value]) => ({ name, value })) }
      }
      if (r.method === 'POST' && rest === '/actions/provision') {
        this.states.set(id, 'provisioned')
        return { status: 200, body: this.#addon(id) }
      }
    }
    const app = /^\/apps\/([^/]+)$/.exec(r.path)
    if (app && r.method === 'GET') return { status: 200, body: { id: app[1], name: 'my-app', owner: { id: 'user-1', email: 'owner@example.com' } } }
    return { status: 404, body: { id: 'not_found', message: 'no such route' } }
  }

  #addon (id: string) {
    return {
      id, name: 'acme-db-cubic-12345', state: this.states.get(id) ?? 'provisioning',
      app: { id: 'app-0001', name: 'my-app' }, plan: { id: 'plan-1', name: 'acme-db:basic' }
    }
  }

  #token (form: Record<string, string>): { status: number, body: unknown } {
    if (form.client_secret !== fakeClientSecret) return { status: 401, body: { id: 'unauthorized', message: 'Invalid client secret.' } }
    if (form.grant_type === 'authorization_code') {
      const uuid = this.grants.get(form.code ?? '')
      if (uuid === undefined || uuid === 'expired') return { status: 400, body: { error: 'invalid_grant', error_description: 'The grant code has expired or was used.' } }
      this.grants.delete(form.code!) // a code works once
      return { status: 200, body: this.#issue(uuid) }
    }
    if (form.grant_type === 'refresh_token') {
      const uuid = this.refreshTokens.get(form.refresh_token ?? '')
      if (uuid === undefined) return { status: 400, body: { error: 'invalid_grant', error_description: 'Unknown refresh token.' } }
      const fresh = this.#issue(uuid)
      this.refreshTokens.delete(fresh.refresh_token) // Heroku keeps the refresh token
      return { status: 200, body: { ...fresh, refresh_token: form.refresh_token } }
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } }
  }
}

/** `POST /oauth/token`, `GET /addons`, `PATCH /addons/config`, `POST /addons/provision`, `GET /apps`. */
export function routeOf (r: { method: string, path: string }): string {
  if (r.path === '/oauth/token') return `${r.method} /oauth/token`
  const addon = /^\/addons\/[^/]+(\/.*)?$/.exec(r.path)
  if (addon) return `${r.method} /addons${addon[1] === '/actions/provision' ? '/provision' : addon[1] ?? ''}`
  if (r.path.startsWith('/apps/')) return `${r.method} /apps`
  return `${r.method} ${r.path}`
}
