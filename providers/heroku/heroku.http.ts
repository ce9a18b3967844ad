import { request } from 'undici'
import { parseRetryAfter } from '../../core/index.js'

/**
 * One call to a Heroku host, as a typed result rather than an exception: `transient` is
 * worth retrying (5xx, 429, timeouts, network), anything else is permanent (a 4xx will not
 * change by itself). Error texts name the status and Heroku's error id, never a credential.
 */
export type HerokuResult<T> =
  | { ok: true, status: number, body: T }
  | { ok: false, transient: boolean, status: number | null, error: string, errorId?: string, retryAfterMs?: number }

export interface HerokuHttp {
  call<T>(url: string, init: { method: string, headers: Record<string, string>, body?: string }): Promise<HerokuResult<T>>
}

/** Bounded: Heroku answers in well under a second; 10 s means something is wrong. */
export const defaultHerokuTimeoutMs = 10_000

export function createHerokuHttp (options: { timeoutMs?: number, now: () => Date }): HerokuHttp {
  const timeoutMs = options.timeoutMs ?? defaultHerokuTimeoutMs

  return {
    async call<T> (url: string, init: { method: string, headers: Record<string, string>, body?: string }): Promise<HerokuResult<T>> {
      try {
        const res = await request(url, {
          method: init.method as 'GET',
          headers: { 'user-agent': 'Marketgate', ...init.headers },
          body: init.body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs)
        })
        const text = await res.body.text()
        let json: unknown
        try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
        if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode, body: json as T }
        const { id, message } = errorFields(json)
        const retryAfter = res.headers['retry-after']
        return {
          ok: false,
          transient: res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408,
          status: res.statusCode,
          error: `HTTP ${res.statusCode}${id ? ` ${id}` : ''}${message ? `: ${message}` : ''}`.slice(0, 300),
          errorId: id,
          retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, options.now())
        }
      } catch (err) {
        const e = err as { code?: string, name?: string }
        return { ok: false, transient: true, status: null, error: `network: ${e.code ?? e.name ?? 'request failed'}` }
      }
    }
  }
}

/**
 * Heroku's error bodies: the Platform API says `{ id, message }`, the OAuth endpoint
 * `{ error, error_description }` or `{ id, message }`. Only short, known fields are kept.
 */
function errorFields (json: unknown): { id?: string, message?: string } {
  if (json === null || typeof json !== 'object') return {}
  const o = json as Record<string, unknown>
  const id = typeof o.id === 'string' ? o.id : typeof o.error === 'string' ? o.error : undefined
  const message = typeof o.message === 'string' ? o.message : typeof o.error_description === 'string' ? o.error_description : undefined
  return { id: id?.slice(0, 60), message: message?.slice(0, 200) }
}
