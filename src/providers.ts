import type { FastifyInstance } from 'fastify'
import { MarketgateError } from '../core/index.js'
import { herokuPlugin } from '../providers/heroku/heroku.plugin.js'
import { createAwsFromServices, type AwsOverrides } from './aws.wiring.js'
import type { Config } from './config.js'
import { herokuPluginOptions } from './heroku.wiring.js'
import type { Services } from './services.js'

/** Replacements for the providers' outside world (tests point them at fakes). */
export interface ProviderOverrides {
  aws?: AwsOverrides
}

interface Marketplace {
  name: string
  prefix: string
  /** The variables that switch it on, as an operator would read them. */
  enabledBy: string
  enabled: (config: Readonly<Config>) => boolean
  register: (app: FastifyInstance, services: Services, overrides: ProviderOverrides) => Promise<void>
}

/**
 * One line per marketplace: each provider is an encapsulated plugin under its own prefix,
 * registered only when its configuration is present.
 */
export const marketplaces: readonly Marketplace[] = [
  {
    name: 'Heroku', prefix: '/heroku', enabledBy: 'HEROKU_ADDON_ID and HEROKU_ADDON_PASSWORD',
    enabled: (c) => c.heroku !== undefined,
    register: async (app, services) => { await app.register(herokuPlugin, { prefix: '/heroku', ...herokuPluginOptions(services) }) }
  },
  {
    name: 'AWS Marketplace', prefix: '/aws', enabledBy: 'AWS_MARKETPLACE_PRODUCT_CODE',
    enabled: (c) => c.aws !== undefined,
    register: async (app, services, overrides) => { await app.register(createAwsFromServices(services, overrides.aws).plugin, { prefix: '/aws' }) }
  }
]

/** The marketplaces this configuration leaves off, with what turns each on. */
export function marketplacesOff (config: Readonly<Config>): Array<Pick<Marketplace, 'name' | 'prefix' | 'enabledBy'>> {
  return marketplaces.filter((m) => !m.enabled(config)).map(({ name, prefix, enabledBy }) => ({ name, prefix, enabledBy }))
}

export const offMessage = (m: Pick<Marketplace, 'name' | 'enabledBy'>) => `${m.name} is off in this gateway: set ${m.enabledBy} to turn it on`

/**
 * A marketplace that is off still owns its prefix: every path under it answers 404
 * NOT_CONFIGURED naming the variables that turn it on, not a bare "no route" that leaves an
 * operator guessing whether the URL or the configuration is wrong.
 */
export async function offRoutes (app: FastifyInstance, opts: { message: string }): Promise<void> {
  const refuse = async () => { throw new MarketgateError('NOT_CONFIGURED', opts.message) }
  app.all('/', { schema: { hide: true } }, refuse)
  app.all('/*', { schema: { hide: true } }, refuse)
}

export async function registerProviders (app: FastifyInstance, services: Services, overrides: ProviderOverrides = {}): Promise<void> {
  for (const m of marketplaces) {
    if (m.enabled(services.config)) await m.register(app, services, overrides)
    else await app.register(offRoutes, { prefix: m.prefix, message: offMessage(m) })
  }
}
