import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import { MarketgateError, type Clock } from '../../core/index.js'
import { ClockStore } from './rate-limit.store.js'

/**
 * Failed credential checks, limited per client address and per kind of credential.
 * `check` before verifying a credential: an address over its budget gets 429 (with
 * Retry-After) until its window ends, whatever it sends. `fail` after a wrong credential.
 * Successes are never counted, so Heroku's heavy traffic from a few addresses never trips it.
 */
export interface AuthLimiter {
  check(request: FastifyRequest, reply: FastifyReply, scope: string): Promise<void>
  fail(request: FastifyRequest, scope: string): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's AuthLimiter (src/http/auth-limiter.ts), on every scope. */
    authLimiter: AuthLimiter
  }
}

export const windowMs = 60_000

/**
 * Registers @fastify/rate-limit without its global hook (it would count every request) and
 * decorates the app with an AuthLimiter built on its manual limiter: a peek
 * (`increment: false`) to check, an increment to count a failure. The counts live in this
 * process (a ClockStore on the injected clock): with N instances an address may fail N times
 * the budget. That bounds guessing well enough for secrets of 16+ characters; a shared store
 * would cost a database round trip on every credential check.
 */
export async function installAuthLimiter (app: FastifyInstance, options: { perMinute: number, clock: Clock }): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    max: options.perMinute,
    timeWindow: windowMs,
    store: ClockStore.using(options.clock)
  })
  const limiters = new Map<string, ReturnType<FastifyInstance['createRateLimit']>>()
  const limiterFor = (scope: string) => {
    let limiter = limiters.get(scope)
    if (limiter === undefined) {
      // The client address as the plugin normalizes it (IPv6 by /64); the scope keeps kinds apart.
      limiter = app.createRateLimit({ keyGenerator: (request) => `${scope}|${normalizeIP(request.ip)}` })
      limiters.set(scope, limiter)
    }
    return limiter
  }

  const authLimiter: AuthLimiter = {
    async check (request, reply, scope) {
      const status = await limiterFor(scope)(request, { increment: false })
      if (status.isAllowed || status.remaining > 0) return
      void reply.header('retry-after', String(Math.max(1, status.ttlInSeconds)))
      request.log.warn({ scope, ip: request.ip }, 'credential checks rate limited')
      throw new MarketgateError('RATE_LIMITED', `too many failed credential checks from this address: retry in ${Math.max(1, status.ttlInSeconds)} s`)
    },
    async fail (request, scope) {
      await limiterFor(scope)(request)
    }
  }
  app.decorate('authLimiter', authLimiter)
}
