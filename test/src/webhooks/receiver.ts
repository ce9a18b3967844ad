import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import type { FakeClock } from '../../helpers/clock.js'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
  /** The secrets (of `receiver.secrets`) whose standardwebhooks verify() accepted this request. */
  verifiedBy: string[]
  /** verify()'s error per secret that refused it. */
  errors: string[]
}

export type Respond = (req: Received, n: number, res: ServerResponse) => void | 'hang'

export interface Receiver {
  url: string
  received: Received[]
  secrets: string[]
  respond: Respond
  /** Resolves when `n` requests have arrived in total. */
  waitFor(n: number): Promise<void>
}

/**
 * A real HTTP receiver on 127.0.0.1 that verifies every request with the standardwebhooks
 * package, as a vendor would. The library checks the timestamp against Date.now(); the
 * sender's time is the test's FakeClock, so verify runs with Date.now() reading that clock:
 * a receiver whose clock agrees with the sender's. A stale or future timestamp still fails.
 */
export async function startReceiver (t: { teardown(fn: () => unknown): void }, clock: FakeClock, respond: Respond = ok): Promise<Receiver> {
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const receiver: Receiver = {
    url: '',
    received: [],
    secrets: [],
    respond,
    waitFor: (n) => new Promise((resolve) => {
      if (receiver.received.length >= n) resolve()
      else waiters.push({ n, resolve })
    })
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const got: Received = { headers: req.headers, body, verifiedBy: [], errors: [] }
      for (const secret of receiver.secrets) {
        const realNow = Date.now
        Date.now = () => clock.now().getTime()
        try {
          new Webhook(secret).verify(body, req.headers as Record<string, string>)
          got.verifiedBy.push(secret)
        } catch (err) {
          got.errors.push((err as Error).message)
        } finally {
          Date.now = realNow
        }
      }
      receiver.received.push(got)
      const answer = receiver.respond(got, receiver.received.length, res)
      if (answer !== 'hang' && !res.writableEnded) res.end()
      for (const w of waiters.filter((w) => receiver.received.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return receiver
}

export const ok: Respond = (_req, _n, res) => { res.statusCode = 204 }
export const status = (code: number, headers: Record<string, string> = {}, body = ''): Respond => (_req, _n, res) => {
  res.writeHead(code, headers)
  res.end(body)
}
