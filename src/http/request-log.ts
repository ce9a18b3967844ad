import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'

/** Fastify options that turn its own two lines per request off, for `installRequestLog`. */
export const quietRequestLogging: Pick<FastifyServerOptions, 'disableRequestLogging'> = { disableRequestLogging: true }

/**
 * One log line per request, when it completes (Fastify's default writes two: "incoming
 * request" and "request completed", both at info). Routes marked `config: { probe: true }`
 * (health checks, metrics scrapes: several a second under an orchestrator) log at debug, so
 * the default level shows traffic, not polling. 5xx answers are logged by the error handler.
 */
export function installRequestLog (app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const probe = (request.routeOptions.config as { probe?: boolean } | undefined)?.probe === true
    const level = probe ? 'debug' : 'info'
    // Skipping the object build matters: this runs on every request of the hot paths.
    if (!(request.log as unknown as Logger).isLevelEnabled(level)) return
    request.log[level]({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request')
  })
}
