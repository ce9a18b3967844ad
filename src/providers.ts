import type { FastifyInstance } from 'fastify'
import type { Services } from './services.js'

/**
 * One line per marketplace: each provider is an encapsulated plugin under its own prefix,
 * registered only when its configuration is present.
 */
export async function registerProviders (_app: FastifyInstance, _services: Services): Promise<void> {
}
