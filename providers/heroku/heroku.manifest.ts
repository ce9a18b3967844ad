import { manifestRegions } from './heroku.regions.js'
import { configVarNames, herokuPaths, type HerokuSettings } from './heroku.settings.js'

/** The add-on manifest (`addon-manifest.json`) Heroku's Partner Portal takes. */
export interface AddonManifest {
  id: string
  name: string
  api: {
    config_vars_prefix: string
    config_vars: string[]
    password: string
    sso_salt?: string
    regions: string[]
    requires: string[]
    production: { base_url: string, sso_url?: string }
    version: '3'
  }
}

/**
 * The manifest of this gateway, as a pure function of its settings: the URLs are the routes
 * the provider registers, the credentials the ones it checks, the config vars exactly those
 * provisioning returns. Without an SSO salt there is no SSO, so no salt and no sso_url.
 */
export function buildAddonManifest (settings: HerokuSettings): AddonManifest {
  const vars = configVarNames(settings)
  const production: AddonManifest['api']['production'] = { base_url: `${settings.publicUrl}${herokuPaths.resources}` }
  if (settings.ssoSalt !== undefined) production.sso_url = `${settings.publicUrl}${herokuPaths.ssoLogin}`
  return {
    id: settings.addonId,
    name: settings.addonName,
    api: {
      config_vars_prefix: settings.configVarsPrefix,
      config_vars: vars.all,
      password: settings.password,
      ...(settings.ssoSalt !== undefined ? { sso_salt: settings.ssoSalt } : {}),
      regions: manifestRegions(settings.regions),
      requires: [],
      production,
      version: '3'
    }
  }
}
