import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Health probes and scrapes: their request lines are logged at debug, not info. */
    probe?: boolean
  }
}

const isProbe = (request: FastifyRequest) => request.routeOptions?.config?.probe === true

/**
 * Fastify's request lines ("incoming request", "request completed") at debug for routes marked
 * `config: { probe: true }`: a load balancer probing every 5 s and a scrape every 15 s made
 * two info lines each, drowning the log. Errors of those routes are still logged as usual.
 */
export class ProbeQuietLogController extends LogController {
  override incomingRequest (request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (!isProbe(request)) return super.incomingRequest(request, reply, metadata)
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error || !isProbe(request)) return super.requestCompleted(error, request, reply, metadata)
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}
