import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
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
import { operationsRoutes } from './http/operations.routes.js'
import { installAuthLimiter } from './http/auth-limiter.js'
import { installInputGuard } from './http/input-guard.js'
import { installOpenApi } from './http/openapi.js'
import { ProbeQuietLogController } from './http/probe-logging.js'
import { schemaErrorFormatter } from './http/schema-errors.js'
import { serverTimeouts } from './http/timeouts.js'
import type { Services } from './services.js'
import { marketplaces, marketplacesOff, offMessage, offRoutes, registerProviders, type ProviderOverrides } from './providers.js'
import { awsMessagesRoutes } from './api/aws-messages.routes.js'
import { apiKeysRoutes } from './api/api-keys.routes.js'
import { herokuAccountsRoutes } from './api/heroku-accounts.routes.js'
import { jobsRoutes } from './api/jobs.routes.js'
import { productsRoutes } from './api/products.routes.js'
import { hookDecisionsRoutes } from './api/hook-decisions.routes.js'
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
    logController: new ProbeQuietLogController(),
    bodyLimit: config.bodyLimit,
    // Unknown query or body fields are errors where a schema says so, never silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    schemaErrorFormatter,
    // X-Forwarded-For is believed only from the proxies MARKETGATE_TRUST_PROXY names (off by default).
    // (A hop count is accepted at run time; Fastify's types omit it.)
    trustProxy: config.trustProxy as boolean | string[],
    ...serverTimeouts(config.requestTimeoutMs)
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Before any route or plugin, so every encapsulated scope inherits them.
  installInputGuard(app)
  await installAuthLimiter(app, { perMinute: config.authRateLimit, clock: services.clock })
  await installOpenApi(app, { publicUrl: config.publicUrl, off: marketplacesOff(config) })
  app.addSchema(AccountJson)
  app.addSchema(EventJson)
  app.addSchema(ErrorJson)
  installErrorHandling(app)
  installRequestMetrics(app, services.metrics)

  await app.register(operationsRoutes, { db: services.db, metrics: services.metrics })

  await app.register(async (v1) => {
    requireAdminToken(v1, config.adminToken)
    await v1.register(accountsRoutes, { services })
    await v1.register(productsRoutes, { config })
    await v1.register(loginTicketsRoutes, { services, login: services.login })
    if (config.aws) {
      await v1.register(awsMessagesRoutes, { services })
      await v1.register(usageRoutes, { services, ingest: createUsageIngestFromServices(services) })
    } else {
      // Said, not a bare 404: these exist once AWS is on.
      const message = offMessage(marketplaces.find((m) => m.prefix === '/aws')!)
      await v1.register(offRoutes, { prefix: '/aws', message })
      await v1.register(offRoutes, { prefix: '/usage', message })
    }
    await v1.register(webhookEndpointsRoutes, { services })
    await v1.register(apiKeysRoutes, { services })
    await v1.register(jobsRoutes, { services })
    await v1.register(hookDecisionsRoutes, { services })
    const heroku = herokuPlatformRuntime(services)
    if (heroku) await v1.register(herokuAccountsRoutes, { services, vendor: heroku.vendor })
  }, { prefix: '/v1' })

  await app.register(sessionPage, { services, login: services.login })
  await registerProviders(app, services, overrides)
  return app
}
