import { Agent, request } from 'undici'
import { maxAnswerBytes } from './hook.answer.js'

/** A deadline as an abort signal; injected so tests end one at will instead of waiting for it. */
export type Deadline = (ms: number) => { signal: AbortSignal, cancel(): void }

export const realDeadline: Deadline = (ms) => {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DeadlineError(ms)), ms)
  timer.unref()
  return { signal: controller.signal, cancel: () => clearTimeout(timer) }
}

export class DeadlineError extends Error {
  constructor (readonly ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'DeadlineError'
  }
}

/** What came back: a status and a body within the limit, or why nothing usable came. */
export type HookResponse = { ok: true, status: number, body: string } | { ok: false, status: number | null, reason: string }

/**
 * POSTs one ask with undici: one deadline covers connect, headers and body; redirects are never
 * followed (undici's `request` follows none); a body past 64 KiB is cut off unread. Kept-alive
 * connections make an answer at once cost one local round trip.
 */
export function createHookHttp (options: { deadline?: Deadline } = {}) {
  const deadline = options.deadline ?? realDeadline
  const agent = new Agent({ keepAliveTimeout: 10_000 })

  async function post (url: string, headers: Record<string, string>, body: string, ms: number): Promise<HookResponse> {
    const { signal, cancel } = deadline(ms)
    let status: number | null = null
    try {
      const res = await request(url, { method: 'POST', dispatcher: agent, signal, headers: { 'user-agent': 'Marketgate-Hook/1', ...headers }, body })
      status = res.statusCode
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > maxAnswerBytes) {
          res.body.destroy()
          return { ok: false, status, reason: `the hook answered more than ${maxAnswerBytes} bytes` }
        }
        chunks.push(chunk as Buffer)
      }
      return { ok: true, status, body: Buffer.concat(chunks).toString('utf8') }
    } catch (err) {
      if (signal.aborted) return { ok: false, status, reason: `the hook did not answer within ${ms} ms` }
      const e = err as { code?: string, name?: string, message?: string }
      return { ok: false, status, reason: `the hook could not be reached (${e.code ?? e.name ?? 'Error'}: ${(e.message ?? '').slice(0, 200)})` }
    } finally {
      cancel()
    }
  }

  return { post, close: () => agent.close() }
}

export type HookHttp = ReturnType<typeof createHookHttp>
