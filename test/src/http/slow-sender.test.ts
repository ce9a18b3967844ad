import { connect } from 'node:net'
import t from 'tap'
import { adminToken, build } from '../../helpers/build.js'
import { serverTimeouts } from '../../../src/http/timeouts.js'

/**
 * Opens a real socket, sends `head` and then one byte of `trickle` every `everyMs`, and resolves
 * with what the server answered and when it closed — bounded by `boundMs` so a server that
 * holds the connection open fails the test instead of hanging it.
 */
function trickle (port: number, head: string, body: string, everyMs: number, boundMs: number) {
  return new Promise<{ answer: string, closedAfterMs: number, timedOut: boolean }>((resolve) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    let i = 0
    const drip = setInterval(() => { if (i < body.length && !socket.destroyed) socket.write(body[i++]!) }, everyMs)
    const finish = (timedOut: boolean) => {
      clearInterval(drip)
      clearTimeout(bound)
      socket.destroy()
      resolve({ answer, closedAfterMs: Date.now() - started, timedOut })
    }
    const bound = setTimeout(() => finish(true), boundMs)
    socket.on('connect', () => socket.write(head))
    socket.on('data', (chunk) => { answer += chunk.toString() })
    socket.on('close', () => finish(false))
    socket.on('error', () => { /* a reset is a close */ })
  })
}

t.test('deadlines follow MARKETGATE_REQUEST_TIMEOUT_MS and Node checks them often enough', async (t) => {
  t.same(serverTimeouts(30_000), { requestTimeout: 30_000, http: { headersTimeout: 30_000, connectionsCheckingInterval: 1000 } })
  t.same(serverTimeouts(1000), { requestTimeout: 1000, http: { headersTimeout: 1000, connectionsCheckingInterval: 250 } })
  t.equal(serverTimeouts(600_000).http.headersTimeout, 60_000, 'headers never wait longer than Node\'s default')
})

t.test('a body sent one byte at a time is cut with 408 within the request timeout', async (t) => {
  const { app } = await build(t, { MARKETGATE_REQUEST_TIMEOUT_MS: '1000' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const body = JSON.stringify({ url: 'https://vendor.test/hook', description: 'x'.repeat(40) })
  const head = `POST /v1/webhook-endpoints HTTP/1.1\r\nHost: gateway.test\r\nAuthorization: Bearer ${adminToken}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
  const slow = await trickle(port, head, body, 200, 6000)
  t.notOk(slow.timedOut, `closed after ${slow.closedAfterMs} ms`)
  t.match(slow.answer, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout')
  t.ok(slow.closedAfterMs < 5000, 'cut within seconds, not held open (the timeout is 1 s; the bound leaves room for a loaded CI machine)')
  t.equal((await app.inject({ url: '/v1/webhook-endpoints', headers: { authorization: `Bearer ${adminToken}` } })).json().data.length, 0, 'nothing created')

  const headers = await trickle(port, 'GET /healthz HTTP/1.1\r\n', 'Host: gateway.test\r\nX-Slow: ' + 'y'.repeat(50), 200, 6000)
  t.notOk(headers.timedOut, `slow headers closed after ${headers.closedAfterMs} ms`)
  t.match(headers.answer, /^HTTP\/1\.1 408/)

  const fast = await fetch(`http://127.0.0.1:${port}/healthz`)
  t.equal(fast.status, 200, 'a normal request is unaffected')
})
