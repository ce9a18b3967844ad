import type { FastifyInstance } from 'fastify'
import { herokuPlugin } from '../providers/heroku/heroku.plugin.js'
import { createAwsFromServices, type AwsOverrides } from './aws.wiring.js'
import { herokuPluginOptions } from './heroku.wiring.js'
import type { Services } from './services.js'

/** Replacements for the providers' outside world (tests point them at fakes). */
export interface ProviderOverrides {
  aws?: AwsOverrides
}

/**
 * One line per marketplace: each provider is an encapsulated plugin under its own prefix,
 * registered only when its configuration is present.
 */
export async function registerProviders (app: FastifyInstance, services: Services, overrides: ProviderOverrides = {}): Promise<void> {
  if (services.config.heroku) await app.register(herokuPlugin, { prefix: '/heroku', ...herokuPluginOptions(services) })
  if (services.config.aws) await app.register(createAwsFromServices(services, overrides.aws).plugin, { prefix: '/aws' })
}
