import { performance } from 'node:perf_hooks'
import { Agent, request } from 'undici'
import type { AttemptResult } from '../../core/index.js'
import { blockedHostReason, guardedLookup, type Lookup } from './endpoint.url-guard.js'

export interface SendRequest {
  url: string
  headers: Record<string, string>
  body: string
}

export interface SendResult {
  result: AttemptResult
  durationMs: number
  statusCode: number | null
  /** At most `excerptBytes` of the response body, for the attempt log. */
  excerpt: string | null
  error: string | null
}

export interface Sender {
  send(req: SendRequest): Promise<SendResult>
  close(): Promise<void>
}

/** Bytes of a response body kept per attempt: enough to read an error, small enough to store forever. */
export const excerptBytes = 1024

const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])

/**
 * POSTs webhooks with undici. One deadline covers connect, headers and the body excerpt
 * (15 s by default, Svix's figure); redirects are never followed (undici's `request` follows
 * none without the redirect interceptor), so a 3xx is a failed attempt, as the spec asks.
 * Link-local and cloud-metadata addresses are never connected to: an address literal is
 * refused before sending, a name through the connection's own DNS lookup (guardedLookup), so
 * what is checked is what is connected to. `lookup` replaces the system resolver (tests).
 */
export function createSender (options: { timeoutMs: number, userAgent?: string, lookup?: Lookup }): Sender {
  const { timeoutMs } = options
  const agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs, lookup: guardedLookup(options.lookup) } })

  async function send (req: SendRequest): Promise<SendResult> {
    const started = performance.now()
    // Endpoints made before URLs were checked, or a literal the resolver never sees.
    const refused = blockedHostReason(req.url)
    if (refused !== undefined) {
      const error = `EADDRBLOCKED: ${refused}: link-local or cloud metadata addresses never receive webhooks`
      return { result: { kind: 'error', message: error }, durationMs: performance.now() - started, statusCode: null, excerpt: null, error }
    }
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      const res = await request(req.url, {
        method: 'POST',
        dispatcher: agent,
        signal,
        headers: { 'content-type': 'application/json', 'user-agent': options.userAgent ?? 'Marketgate-Webhooks/1', ...req.headers },
        body: req.body
      })
      const retryAfter = res.headers['retry-after']
      const excerpt = await readExcerpt(res.body)
      return {
        result: { kind: 'response', status: res.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter ?? null },
        durationMs: performance.now() - started,
        statusCode: res.statusCode,
        excerpt,
        error: res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`
      }
    } catch (err) {
      const e = err as { code?: string, name?: string, message?: string }
      const timedOut = timeoutCodes.has(e.code ?? '') || e.name === 'TimeoutError' || signal.aborted
      const message = timedOut ? `timed out after ${timeoutMs} ms` : `${e.code ?? e.name ?? 'Error'}: ${e.message ?? 'request failed'}`
      return {
        result: timedOut ? { kind: 'timeout' } : { kind: 'error', message },
        durationMs: performance.now() - started,
        statusCode: null,
        excerpt: null,
        error: withoutNul(message.slice(0, 500))
      }
    }
  }

  return { send, close: () => agent.close() }
}

/**
 * The first bytes of a body, then the rest is dropped. A body that stalls or breaks after
 * the status line does not change the outcome: the status arrived in time.
 */
async function readExcerpt (body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= excerptBytes) break
    }
  } catch {
    // keep what arrived
  } finally {
    body.destroy()
  }
  if (size === 0) return null
  return withoutNul(Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8'))
}

/** Postgres text cannot hold NUL; a receiver's body (or error) with one must still be recordable. */
function withoutNul (text: string): string {
  return text.replaceAll('\u0000', '')
}
