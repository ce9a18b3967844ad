import { buildAddonManifest } from '../providers/heroku/heroku.manifest.js'
import type { Config } from './config.js'
import { herokuSettings } from './heroku.wiring.js'

/**
 * `marketgate manifest heroku`: the addon-manifest.json of this configuration, from the same
 * settings the running provider uses, or undefined when Heroku is not configured.
 */
export function herokuManifestText (config: Readonly<Config>): string | undefined {
  if (config.heroku === undefined) return undefined
  return `${JSON.stringify(buildAddonManifest(herokuSettings(config)), null, 2)}\n`
}
