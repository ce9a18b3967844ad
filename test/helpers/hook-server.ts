import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

/** A hook secret for tests: distinctive, so the log tests can look for it. */
export const hookSecret = `whsec_${Buffer.from('hook-secret-0123456789-abcdefghij').toString('base64')}`

export interface HookCall {
  headers: Record<string, string>
  body: { type: string, timestamp: string, data: Record<string, unknown> }
  /** True when the signature verified with standardwebhooks under hookSecret. */
  verified: boolean
}

export type HookAnswer = (call: HookCall, res: ServerResponse) => void

/** `{status, json}` as an answer. */
export const answer = (status: number, json: unknown): HookAnswer => (_call, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(typeof json === 'string' ? json : JSON.stringify(json))
}

/**
 * A real local HTTP hook: it verifies every request's signature with the standardwebhooks
 * library, records it, and answers with whatever `next` is set to (allow by default).
 */
export async function startHookServer (t: { teardown(fn: () => unknown): void }) {
  const wh = new Webhook(hookSecret)
  const calls: HookCall[] = []
  const state: { next: HookAnswer } = { next: answer(200, { allow: true }) }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
      // Signed again with standardwebhooks at the ask's own timestamp and compared: the app
      // under test may run on a fake clock, outside verify()'s five-minute window of real time.
      const at = new Date(Number(headers['webhook-timestamp']) * 1000)
      const expected = Number.isFinite(at.getTime()) ? wh.sign(headers['webhook-id'] ?? '', at, raw) : ''
      const given = (headers['webhook-signature'] ?? '').split(' ')
      const verified = expected !== '' && given.some((g) => g.length === expected.length && timingSafeEqual(Buffer.from(g), Buffer.from(expected)))
      const call: HookCall = { headers, body: JSON.parse(raw), verified }
      calls.push(call)
      if (!verified) return res.writeHead(401).end('{"message":"bad signature"}')
      state.next(call, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return {
    url,
    calls,
    /** What the next asks are answered with. */
    answer (a: HookAnswer) { state.next = a },
    env: { MARKETGATE_HOOK_URL: url, MARKETGATE_HOOK_SECRET: hookSecret }
  }
}

/** A deadline the test ends by hand: `expire()` aborts every ask in flight, no waiting. */
export function manualDeadline () {
  const controllers = new Set<AbortController>()
  const asked: number[] = []
  return {
    asked,
    deadline: (ms: number) => {
      asked.push(ms)
      const c = new AbortController()
      controllers.add(c)
      return { signal: c.signal, cancel: () => controllers.delete(c) }
    },
    expire () { for (const c of controllers) c.abort(new Error('deadline')); controllers.clear() },
    /** Asks still waiting for their answer. */
    get inFlight () { return controllers.size }
  }
}
