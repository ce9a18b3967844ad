import type { ServerOptions } from 'node:http'

/**
 * Server deadlines from MARKETGATE_REQUEST_TIMEOUT_MS. Node's `requestTimeout` bounds the
 * whole request (headers and body): a body trickled one byte every 3 s was held open for ever,
 * and slow headers were cut only at Node's 60 s headersTimeout plus its 30 s check interval
 * (seen as 91 s). Node checks the deadlines every `connectionsCheckingInterval`, so that is
 * kept at a fraction of the timeout: a slow sender is answered 408 within about 1.25× the bound.
 * The response itself is not bounded here (statement timeouts bound the database work);
 * idle keep-alive sockets close after Fastify's 72 s keepAliveTimeout, above the 60 s idle
 * timeout of common load balancers, so the balancer closes first and never reuses a dead socket.
 */
export function serverTimeouts (requestTimeoutMs: number): { requestTimeout: number, http: ServerOptions } {
  return {
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, requestTimeoutMs),
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(requestTimeoutMs / 4)))
    }
  }
}
