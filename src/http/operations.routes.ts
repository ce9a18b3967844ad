import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { Kysely } from 'kysely'
import type { Registry } from 'prom-client'
import { ping } from '../storage/database.js'
import type { Database } from '../storage/tables.js'

/**
 * /healthz (the process is up), /readyz (the database answers) and /metrics (Prometheus
 * text), for the gateway and for `marketgate worker` alike. Probes and scrapes come every few
 * seconds: `probe` routes are logged at debug (src/http/probe-logging.ts).
 */
export async function operationsRoutes (app: FastifyInstance, options: { db: Kysely<Database>, metrics: Registry }): Promise<void> {
  app.get('/healthz', {
    config: { probe: true },
    schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    config: { probe: true },
    schema: { tags: ['operations'], summary: 'The database answers', response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) } }
  }, async (_request, reply) => {
    if (await ping(options.db)) return { status: 'ready' }
    return reply.status(503).send({ status: 'database unreachable' })
  })
  app.get('/metrics', { config: { probe: true }, schema: { hide: true } }, async (_request, reply) => {
    return reply.type(options.metrics.contentType).send(await options.metrics.metrics())
  })
}
