import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export interface OpenApiOptions {
  publicUrl: string
  /** Marketplaces this configuration leaves off: their routes are absent from the document. */
  off: ReadonlyArray<{ name: string, prefix: string, enabledBy: string }>
}

/** The document's description: says which routes the configuration left out and why. */
export function describeDocument (off: OpenApiOptions['off']): string {
  const base = 'Marketplace gateway: marketplace endpoints, the /v1 vendor API and operations.'
  if (off.length === 0) return base
  const lines = off.map((m) => `- ${m.name} (\`${m.prefix}\` and its /v1 routes): set ${m.enabledBy}`)
  return `${base}\n\nThis document lists only what this gateway's configuration turns on. Off, so absent here:\n${lines.join('\n')}`
}

/**
 * /openapi.json and the API reference page at /docs (Swagger UI). The page and its assets
 * come from @fastify/swagger-ui's bundled copy of swagger-ui-dist, so it works offline and
 * sends no request outside the gateway (the spec validator badge is off by default).
 */
export async function installOpenApi (app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Marketgate', version: '0.1.0', description: describeDocument(options.off) },
      servers: [{ url: options.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, herokuBasic: { type: 'http', scheme: 'basic' } } }
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { deepLinking: true, validatorUrl: null }
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
