import t from 'tap'
import { buildAddonManifest } from '../../../providers/heroku/heroku.manifest.js'
import { manifestRegions, regionAllowed } from '../../../providers/heroku/heroku.regions.js'
import type { HerokuSettings } from '../../../providers/heroku/heroku.settings.js'

const settings: HerokuSettings = {
  productId: 'default', addonId: 'acme-db', addonName: 'Acme DB', password: 'pw-12345678', ssoSalt: 'salt-12345678', configVarsPrefix: 'ACME_DB',
  plans: undefined, regions: undefined, publicUrl: 'https://gw.example.com', serviceUrl: 'https://api.acme.example'
}

t.test('the manifest names this gateway: id, vars, credentials, URLs, version 3', async (t) => {
  t.same(buildAddonManifest(settings), {
    id: 'acme-db',
    name: 'Acme DB',
    api: {
      config_vars_prefix: 'ACME_DB',
      config_vars: ['ACME_DB_URL', 'ACME_DB_API_KEY'],
      password: 'pw-12345678',
      sso_salt: 'salt-12345678',
      regions: ['*'],
      requires: [],
      production: { base_url: 'https://gw.example.com/heroku/resources', sso_url: 'https://gw.example.com/heroku/sso/login' },
      version: '3'
    }
  })
})

t.test('without an SSO salt the manifest offers no SSO', async (t) => {
  const m = buildAddonManifest({ ...settings, ssoSalt: undefined })
  t.notOk('sso_salt' in m.api)
  t.same(m.api.production, { base_url: 'https://gw.example.com/heroku/resources' })
})

t.test('region allow-lists take short names or provisioning values', async (t) => {
  t.equal(regionAllowed(undefined, undefined), true)
  t.equal(regionAllowed(['us'], 'amazon-web-services::us-east-1'), true)
  t.equal(regionAllowed(['us'], 'amazon-web-services::eu-west-1'), false)
  t.equal(regionAllowed(['amazon-web-services::eu-west-1'], 'amazon-web-services::eu-west-1'), true)
  t.equal(regionAllowed(['eu'], undefined), false)
  t.same(manifestRegions(['us', 'eu']), ['us', 'eu'])
  t.same(manifestRegions(['amazon-web-services::eu-west-1']), ['eu', 'dublin'])
  t.same(manifestRegions(['mars']), ['mars'])
})
