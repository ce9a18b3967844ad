import t from 'tap'
import { createSecretBox } from '../../../src/crypto/secret-box.js'
import { sealV1 } from '../../helpers/legacy-seal.js'

const oldKey = 'old-secret-key-0123456789-0123456789-abcdef'
const newKey = 'new-secret-key-0123456789-0123456789-abcdef'

t.test('a sealed value names its key and opens only under it', async (t) => {
  const box = createSecretBox(newKey)
  const sealed = box.seal('whsec_abc')
  t.match(sealed, /^v2\.[0-9a-f]{16}\.[\w-]+\.[\w-]+$/)
  t.ok(sealed.startsWith(box.currentPrefix))
  t.ok(box.isCurrent(sealed))
  t.equal(box.open(sealed), 'whsec_abc')
  t.equal(box.sealedUnder(sealed), 'current')
  t.not(box.seal('whsec_abc'), sealed, 'a fresh IV per seal')
  const other = createSecretBox(oldKey)
  t.throws(() => other.open(sealed), /does not hold/)
  t.equal(other.sealedUnder(sealed), undefined)
  t.notOk(other.isCurrent(sealed))
  const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA')
  t.throws(() => box.open(tampered))
  t.throws(() => box.open('not sealed'), /not a sealed secret/)
  t.equal(box.hasPrevious, false)
})

t.test('values sealed before key ids (v1) still open, under the current or the previous key', async (t) => {
  const legacy = sealV1(oldKey, 'mgk_legacy')
  t.equal(createSecretBox(oldKey).open(legacy), 'mgk_legacy')
  t.notOk(createSecretBox(oldKey).isCurrent(legacy), 'a rotation re-seals v1 values into v2')
  t.throws(() => createSecretBox(newKey).open(legacy))
  const rotating = createSecretBox(newKey, oldKey)
  t.equal(rotating.open(legacy), 'mgk_legacy')
  t.equal(rotating.sealedUnder(legacy), 'previous')
  t.equal(rotating.sealedUnder(sealV1(newKey, 'x')), 'current')
})

t.test('with a previous key, old secrets, digests and subkeys stay valid; new ones are made under the current key', async (t) => {
  const before = createSecretBox(oldKey)
  const during = createSecretBox(newKey, oldKey)
  const after = createSecretBox(newKey)
  t.equal(during.hasPrevious, true)
  const old = before.seal('token')
  t.equal(during.open(old), 'token')
  t.equal(during.sealedUnder(old), 'previous')
  t.notOk(during.isCurrent(old))
  const fresh = during.seal('token')
  t.ok(during.isCurrent(fresh))
  t.equal(after.open(fresh), 'token', 'what is sealed during the overlap opens under the new key alone')
  t.equal(during.digest('mgk_1'), after.digest('mgk_1'))
  t.same(during.digests('mgk_1'), [after.digest('mgk_1'), before.digest('mgk_1')])
  t.same(after.digests('mgk_1'), [after.digest('mgk_1')])
  t.same(during.subkeys('session'), [after.subkey('session'), before.subkey('session')])
  t.same(during.subkey('session'), after.subkey('session'))
  t.equal(createSecretBox(newKey, newKey).hasPrevious, false, 'a previous key equal to the current one is no rotation')
})
