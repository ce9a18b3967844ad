import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * One prom-client registry per app instance (not the global one), so several apps in one
 * process — tests, the benchmark — never collide. Other components register on it.
 */
export function createMetricsRegistry (): Registry {
  const registry = new Registry()
  // Default metric names already start with process_ or nodejs_: the prefix is ours alone.
  collectDefaultMetrics({ register: registry, prefix: 'marketgate_' })
  return registry
}

/** The request histogram; /metrics itself is served by operations.routes.ts. */
export function installRequestMetrics (app: FastifyInstance, registry: Registry): void {
  const latency = new Histogram({
    name: 'marketgate_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry]
  })
  app.addHook('onResponse', async (request, reply) => {
    latency.observe({
      method: request.method,
      // The route pattern, never the raw URL: ids would explode the label set.
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })
}

/**
 * The registry's metric of this name, created on first use: several components of one kind
 * (two metering jobs in a test, a worker restarted) share one series instead of colliding.
 */
export function counterOn<L extends string> (registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] })
}
