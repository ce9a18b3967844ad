import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { runBin, startBin } from '../../helpers/bin.js'
import { freePort } from '../../helpers/net.js'

t.setTimeout(300_000) // four real processes on two shared cores

// The key procedure as an operator runs it: a wrong key cannot start; the new key with the old
// one as PREVIOUS serves; rotate-secret-key re-seals; then the new key alone starts.
const oldKey = 'old-secret-key-0123456789-0123456789-abc'
const newKey = 'new-secret-key-0123456789-0123456789-xyz'

t.test('a wrong key stops the start with one line; rotate-secret-key moves every secret to the new key', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mg-rotate-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const port = await freePort()
  const env = { MARKETGATE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', MARKETGATE_ADMIN_TOKEN: 'rotate-test-admin-token', MARKETGATE_WORKERS: 'off' }
  const auth = { authorization: 'Bearer rotate-test-admin-token', 'content-type': 'application/json' }

  const first = await startBin(['start'], { ...env, MARKETGATE_SECRET_KEY: oldKey }, `http://127.0.0.1:${port}/readyz`)
  const created = await request(`http://127.0.0.1:${port}/v1/webhook-endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }) })
  t.equal(created.statusCode, 201)
  const endpoint = await created.body.json() as { id: string }
  t.equal(await first.stop(), 0)

  const wrong = await runBin(['start'], { ...env, MARKETGATE_SECRET_KEY: newKey })
  t.equal(wrong.code, 78)
  t.match(wrong.stderr, /^marketgate: configuration error: MARKETGATE_SECRET_KEY: does not open the secrets stored/)
  t.equal(wrong.stderr.trim().split('\n').length, 1, 'one line')
  t.notMatch(wrong.stderr + wrong.stdout, new RegExp(`${oldKey}|${newKey}`), 'no key is printed')

  const noPrevious = await runBin(['rotate-secret-key'], { ...env, MARKETGATE_SECRET_KEY: newKey })
  t.equal(noPrevious.code, 78)
  t.match(noPrevious.stderr, /MARKETGATE_SECRET_KEY_PREVIOUS/)

  const rotated = await runBin(['rotate-secret-key'], { ...env, MARKETGATE_SECRET_KEY: newKey, MARKETGATE_SECRET_KEY_PREVIOUS: oldKey })
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.stdout, /^webhook_endpoints: 1 re-sealed$/m)
  t.match(rotated.stdout, /MARKETGATE_SECRET_KEY_PREVIOUS can be removed/)
  const again = await runBin(['rotate-secret-key'], { ...env, MARKETGATE_SECRET_KEY: newKey, MARKETGATE_SECRET_KEY_PREVIOUS: oldKey })
  t.match(again.stdout, /^webhook_endpoints: 0 re-sealed$/m, 'a second run changes nothing')

  const after = await startBin(['start'], { ...env, MARKETGATE_SECRET_KEY: newKey }, `http://127.0.0.1:${port}/readyz`)
  t.teardown(() => after.stop())
  const rotatedSecret = await request(`http://127.0.0.1:${port}/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { method: 'POST', headers: auth, body: '{}' })
  t.equal(rotatedSecret.statusCode, 200, 'the endpoint secret opens under the new key alone')
  await rotatedSecret.body.dump()
  t.equal(await after.stop(), 0)
})
