import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { accountsRoutes } from './api/accounts.routes.js'
import { loginTicketsRoutes } from './api/login-tickets.routes.js'
import { usageRoutes } from './api/usage.routes.js'
import { createUsageIngestFromServices } from './metering/metering.wiring.js'
import { sessionPage } from './login/session.page.js'
import { webhookEndpointsRoutes } from './api/webhook-endpoints.routes.js'
import { requireAdminToken } from './api/admin-auth.js'
import { AccountJson, EventJson } from './api/account.json.js'
import { ErrorJson } from './api/pagination.js'
import { installErrorHandling } from './http/error-handler.js'
import { installRequestMetrics } from './http/metrics.js'
import type { Services } from './services.js'
import { ping } from './storage/database.js'
import { registerProviders, type ProviderOverrides } from './providers.js'
import { awsMessagesRoutes } from './api/aws-messages.routes.js'
import { apiKeysRoutes } from './api/api-keys.routes.js'
import { herokuAccountsRoutes } from './api/heroku-accounts.routes.js'
import { jobsRoutes } from './api/jobs.routes.js'
import { productsRoutes } from './api/products.routes.js'
import { herokuPlatformRuntime } from './heroku.wiring.js'

/**
 * Builds the whole HTTP app from its services without listening: the server entry point
 * listens, tests use `inject` or listen on port 0. Every route has a schema, which both
 * validates input and feeds /openapi.json.
 */
export async function buildApp (services: Services, overrides: ProviderOverrides = {}): Promise<FastifyInstance> {
  const { config } = services
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // Unknown query or body fields are errors where a schema says so, never silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    trustProxy: true
  }).withTypeProvider<TypeBoxTypeProvider>()

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Marketgate', version: '0.1.0', description: 'Marketplace gateway: marketplace endpoints, the /v1 vendor API and operations.' },
      servers: [{ url: config.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, herokuBasic: { type: 'http', scheme: 'basic' } } }
    }
  })
  app.addSchema(AccountJson)
  app.addSchema(EventJson)
  app.addSchema(ErrorJson)
  installErrorHandling(app)
  installRequestMetrics(app, services.metrics)

  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    schema: { tags: ['operations'], summary: 'The database answers', response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) } }
  }, async (_request, reply) => {
    if (await ping(services.db)) return { status: 'ready' }
    return reply.status(503).send({ status: 'database unreachable' })
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  await app.register(async (v1) => {
    requireAdminToken(v1, config.adminToken)
    await v1.register(accountsRoutes, { services })
    await v1.register(productsRoutes, { config })
    await v1.register(loginTicketsRoutes, { services, login: services.login })
    if (config.aws) {
      await v1.register(awsMessagesRoutes, { services })
      await v1.register(usageRoutes, { services, ingest: createUsageIngestFromServices(services) })
    }
    await v1.register(webhookEndpointsRoutes, { services })
    await v1.register(apiKeysRoutes, { services })
    await v1.register(jobsRoutes, { services })
    const heroku = herokuPlatformRuntime(services)
    if (heroku) await v1.register(herokuAccountsRoutes, { services, vendor: heroku.vendor })
  }, { prefix: '/v1' })

  await app.register(sessionPage, { services, login: services.login })
  await registerProviders(app, services, overrides)
  return app
}
