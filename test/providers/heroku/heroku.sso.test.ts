import t from 'tap'
import { resourceToken, userScopedResourceToken, verifySsoClaim } from '../../../providers/heroku/heroku.sso.js'

t.test('the sha1 token matches the Dev Center and kensa vectors', async (t) => {
  t.equal(resourceToken('123', '2f97bfa52ca102f8874716e2eb1d3b4920ad0be4', '1267597772'), 'bb466eb1d6bc345d11072c3cd25c311f21be130d')
  t.equal(resourceToken('1', 'SSO_SALT', '1262304000'), 'b6010f6fbb850887a396c2bc0ab23974003008f6')
  t.equal(resourceToken('01234567-89ab-cdef-0123-456789abcdef', 'SALT123', '1700000000'), '5e2dc53c51a891c94f35e2a0bbc3dc397d090194')
})

t.test('the user-scoped sha256 token matches the reference vector', async (t) => {
  t.equal(userScopedResourceToken('01234567-89ab-cdef-0123-456789abcdef', 'SALT123', '1700000000', '11111111-2222-3333-4444-555555555555', 'user@example.com'),
    'f0c1a0efe0102b3be88df1fa05e27426ca69f8b8b7366e7ffad58094277b5a40')
})

const uuid = '01234567-89ab-cdef-0123-456789abcdef'
const salt = 'SALT123'
const ts = '1700000000'
const at = (seconds: number) => new Date((1700000000 + seconds) * 1000)
const sha1 = resourceToken(uuid, salt, ts)
const sha256 = userScopedResourceToken(uuid, salt, ts, 'u-1', 'user@example.com')

t.test('a valid token inside the window is accepted, whichever kind', async (t) => {
  t.same(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [sha1] }, salt, at(0)), { ok: true })
  t.same(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [sha1, sha1.toUpperCase()] }, salt, at(300)), { ok: true })
  t.same(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [], userScopedToken: sha256, userId: 'u-1', email: 'user@example.com' }, salt, at(-60)), { ok: true })
})

t.test('the window is five minutes back and one minute ahead', async (t) => {
  t.match(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [sha1] }, salt, at(301)), { ok: false, reason: /expired/ })
  t.match(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [sha1] }, salt, at(-61)), { ok: false, reason: /future/ })
  t.match(verifySsoClaim({ resourceId: uuid, timestamp: 'soon', tokens: [sha1] }, salt, at(0)), { ok: false })
})

t.test('wrong tokens, wrong ids, a wrong salt or no token are refused', async (t) => {
  t.equal(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [] }, salt, at(0)).ok, false)
  t.equal(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: ['0'.repeat(40)] }, salt, at(0)).ok, false)
  t.equal(verifySsoClaim({ resourceId: 'another', timestamp: ts, tokens: [sha1] }, salt, at(0)).ok, false)
  t.equal(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [sha1] }, 'other-salt', at(0)).ok, false)
  // One bad token among good ones spoils the claim.
  t.equal(verifySsoClaim({ resourceId: uuid, timestamp: ts, tokens: [sha1, 'bad'] }, salt, at(0)).ok, false)
})

t.test('a user-scoped token binds the email and user id, with no fallback to sha1', async (t) => {
  const claim = { resourceId: uuid, timestamp: ts, tokens: [sha1], userScopedToken: sha256, userId: 'u-1' }
  t.equal(verifySsoClaim({ ...claim, email: 'user@example.com' }, salt, at(0)).ok, true)
  t.equal(verifySsoClaim({ ...claim, email: 'attacker@example.com' }, salt, at(0)).ok, false)
  t.equal(verifySsoClaim({ ...claim, email: 'user@example.com', userId: 'u-2' }, salt, at(0)).ok, false)
})
