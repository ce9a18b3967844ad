import t from 'tap'
import { basicAuthMatches, constantTimeEqual } from '../../../providers/heroku/heroku.auth.js'

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`

t.test('basic auth matches only the exact id and password', async (t) => {
  t.equal(basicAuthMatches(basic('addon-slug:super-secret'), 'addon-slug', 'super-secret'), true)
  // The Dev Center example header.
  t.equal(basicAuthMatches('Basic YWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ=', 'addon-slug', 'super-secret'), true)
  t.equal(basicAuthMatches(basic('addon-slug:super-secret:x'), 'addon-slug', 'super-secret'), false)
  t.equal(basicAuthMatches(basic('addon-slug:super-secreT'), 'addon-slug', 'super-secret'), false)
  t.equal(basicAuthMatches(basic('other:super-secret'), 'addon-slug', 'super-secret'), false)
  t.equal(basicAuthMatches(basic('addon-slugsuper-secret'), 'addon-slug', 'super-secret'), false)
  t.equal(basicAuthMatches('Bearer super-secret', 'addon-slug', 'super-secret'), false)
  t.equal(basicAuthMatches(undefined, 'addon-slug', 'super-secret'), false)
  t.equal(basicAuthMatches(basic(':'), '', ''), false, 'an empty configuration never matches an empty header by accident')
})

t.test('constant-time comparison is still a comparison', async (t) => {
  t.equal(constantTimeEqual('a', 'a'), true)
  t.equal(constantTimeEqual('a', 'ab'), false)
})
