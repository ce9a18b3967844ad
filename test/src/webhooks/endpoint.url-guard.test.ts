import t from 'tap'
import type { LookupAddress } from 'node:dns'
import { blockedAddressReason, blockedHostReason, guardedLookup, type Lookup } from '../../../src/webhooks/endpoint.url-guard.js'
import { createSender } from '../../../src/webhooks/delivery.sender.js'
import { build } from '../../helpers/build.js'
import { harness, testTimeoutMs } from './harness.js'

const refused = [
  'http://169.254.169.254/latest/meta-data/', 'http://169.254.0.1/', 'http://2852039166/', 'http://0xa9.254.0251.254/', 'http://169.254.169.254./',
  'http://[fe80::1]/', 'http://[febf::1]/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://metadata.google.internal/computeMetadata/v1/',
  'http://METADATA.google.internal./', 'http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/', 'http://[0:0:0:0:0:ffff:6464:64c8]/'
]
const allowed = [
  'http://10.1.2.3/hook', 'http://172.16.0.1/', 'http://192.168.1.10/', 'http://127.0.0.1:8080/', 'http://[::1]/', 'https://hooks.vendor.example/',
  'http://169.253.255.255/', 'http://169.255.0.0/', 'http://[fec0::1]/', 'http://100.100.100.201/'
]

t.test('link-local and metadata hosts are refused in every spelling; private networks are allowed', async (t) => {
  for (const url of refused) t.ok(blockedHostReason(url), url)
  for (const url of allowed) t.equal(blockedHostReason(url), undefined, url)
  t.ok(blockedAddressReason('::ffff:169.254.169.254'))
  t.equal(blockedAddressReason('not-an-ip'), undefined)
})

t.test('create and PATCH refuse such a URL with a 400 naming url, and store nothing', async (t) => {
  const { app, auth, services } = await build(t)
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:169.254.169.254]/', 'http://metadata.google.internal/']) {
    const res = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url } })
    t.equal(res.statusCode, 400, url)
    t.match(res.json().error, { code: 'VALIDATION_FAILED', message: /url/ }, url)
  }
  t.equal((await services.db.selectFrom('webhook_endpoints').select('id').execute()).length, 0)
  const ok = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'http://10.0.0.5/hooks' } })
  t.equal(ok.statusCode, 201, 'a private network is fine')
  const patched = await app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${ok.json().id}`, headers: auth, payload: { url: 'http://[fe80::1]/' } })
  t.equal(patched.statusCode, 400)
  t.match(patched.json().error.message, /url/)
  const got = await app.inject({ method: 'GET', url: `/v1/webhook-endpoints/${ok.json().id}`, headers: auth })
  t.equal(got.json().url, 'http://10.0.0.5/hooks', 'unchanged')
})

/** A resolver that knows a few names, as a DNS server under an attacker's control would. */
const fakeDns = (names: Record<string, LookupAddress[]>): Lookup => (hostname, _options, callback) => {
  const answer = names[hostname]
  if (answer === undefined) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), [])
  callback(null, answer)
}

t.test('at delivery time a name that resolves to a metadata address is never fetched; the attempt says why', async (t) => {
  const h = await harness(t)
  const port = new URL(h.receiver.url).port
  const sender = createSender({
    timeoutMs: testTimeoutMs,
    lookup: fakeDns({
      'rebind.test': [{ address: '169.254.169.254', family: 4 }],
      'mapped.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
      'internal.test': [{ address: '127.0.0.1', family: 4 }],
      'mixed.test': [{ address: '169.254.169.254', family: 4 }, { address: '127.0.0.1', family: 4 }]
    })
  })
  t.teardown(() => sender.close())
  const post = (host: string) => sender.send({ url: `http://${host}:${port}/hooks`, headers: {}, body: '{}' })

  for (const host of ['rebind.test', 'mapped.test']) {
    const r = await post(host)
    t.match(r, { statusCode: null, result: { kind: 'error' }, error: /EADDRBLOCKED.*169\.254\.169\.254|EADDRBLOCKED.*a9fe/ }, host)
  }
  t.equal(h.receiver.received.length, 0, 'nothing connected')
  t.match(await post('internal.test'), { statusCode: 204 }, 'a name resolving to a private address is delivered: the lookup is the one used')
  t.match(await post('mixed.test'), { statusCode: 204 }, 'only the allowed address of a mixed answer is connected to')
  t.equal(h.receiver.received.length, 2)
  t.match(await post('169.254.169.254'), { error: /EADDRBLOCKED/ }, 'a literal (never looked up) is refused before sending')
})

t.test('the worker records the refusal on the attempt of an endpoint stored before URLs were checked', async (t) => {
  const h = await harness(t)
  await h.services.db.updateTable('webhook_endpoints').set({ url: 'http://169.254.169.254/latest/meta-data/' }).execute()
  await h.provision()
  await h.worker.runOnce()
  const attempts = await h.services.db.selectFrom('webhook_delivery_attempts').selectAll().execute()
  t.equal(attempts.length, 1)
  t.match(attempts[0], { status_code: null, response_excerpt: null, error: /EADDRBLOCKED: 169\.254\.169\.254 is a link-local or cloud metadata address/ })
  t.match((await h.deliveries())[0], { status: 'retrying' })
})

t.test('guardedLookup answers in the shape asked for, without the blocked addresses', async (t) => {
  const lookup = guardedLookup(fakeDns({ 'two.test': [{ address: 'fe80::1', family: 6 }, { address: '10.0.0.7', family: 4 }] }))
  const ask = (all: boolean) => new Promise<unknown[]>((resolve) => lookup('two.test', { all }, (err, address, family) => resolve([err, address, family])))
  t.same(await ask(true), [null, [{ address: '10.0.0.7', family: 4 }], undefined])
  t.same(await ask(false), [null, '10.0.0.7', 4])
  const [err] = await new Promise<unknown[]>((resolve) => lookup('nowhere.test', {}, (...a) => resolve(a)))
  t.match(err, { code: 'ENOTFOUND' }, 'resolver errors pass through')
})
