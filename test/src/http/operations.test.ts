import t from 'tap'
import { build } from '../../helpers/build.js'
import { herokuEnv } from '../../helpers/heroku.js'

// One gateway with no marketplace on, logging at debug, for the whole file.
const built = await build(t, { MARKETGATE_LOG_LEVEL: 'debug' })
const { app, auth } = built
const lines = () => built.logs.join('').trim().split('\n').map((l) => JSON.parse(l) as { level: number, msg: string, req?: { url: string, remoteAddress: string }, reqId?: string })

t.test('health probes and scrapes are logged at debug, other requests at info', async (t) => {
  built.logs.length = 0
  for (const url of ['/healthz', '/readyz', '/metrics']) t.equal((await app.inject(url)).statusCode, 200, url)
  await app.inject({ url: '/v1/accounts', headers: auth })
  const requestLines = lines().filter((l) => l.msg === 'incoming request' || l.msg === 'request completed')
  const byReq = new Map<string, string>()
  for (const l of requestLines) if (l.req !== undefined) byReq.set(l.reqId!, l.req.url)
  const probeLines = requestLines.filter((l) => ['/healthz', '/readyz', '/metrics'].includes(byReq.get(l.reqId!)!))
  t.equal(probeLines.length, 6, 'two lines per probe, still there at debug')
  t.ok(probeLines.every((l) => l.level === 20), 'all at debug')
  const other = requestLines.filter((l) => byReq.get(l.reqId!) === '/v1/accounts')
  t.same(other.map((l) => l.level), [30, 30], 'a normal request keeps its info lines')
})

t.test('a marketplace that is off answers 404 naming the variables that turn it on', async (t) => {
  const heroku = await app.inject({ method: 'POST', url: '/heroku/resources', payload: {} })
  t.equal(heroku.statusCode, 404)
  t.same(heroku.json(), { error: { code: 'NOT_CONFIGURED', message: 'Heroku is off in this gateway: set HEROKU_ADDON_ID and HEROKU_ADDON_PASSWORD to turn it on' } })
  for (const url of ['/heroku', '/heroku/sso/login', '/aws/events', '/aws/register']) {
    const res = await app.inject({ method: url === '/heroku' ? 'GET' : 'POST', url })
    t.equal(res.statusCode, 404, url)
    t.match(res.json().error.message, url.startsWith('/aws') ? 'set AWS_MARKETPLACE_PRODUCT_CODE' : 'set HEROKU_ADDON_ID', url)
  }
  for (const url of ['/v1/usage', '/v1/aws/dead-messages']) {
    const res = await app.inject({ url, headers: auth })
    t.equal(res.statusCode, 404, url)
    t.match(res.json().error, { code: 'NOT_CONFIGURED', message: /set AWS_MARKETPLACE_PRODUCT_CODE/ }, url)
  }
  t.equal((await app.inject({ url: '/v1/usage' })).statusCode, 401, 'behind the admin token like the rest of /v1')
  t.equal((await app.inject('/nowhere')).json().error.code, 'ROUTE_NOT_FOUND', 'other unknown paths stay a plain 404')
})

t.test('/openapi.json says which marketplaces are off and how to turn them on', async (t) => {
  const doc = (await app.inject('/openapi.json')).json()
  t.match(doc.info.description, /Heroku \(`\/heroku` and its \/v1 routes\): set HEROKU_ADDON_ID and HEROKU_ADDON_PASSWORD/)
  t.match(doc.info.description, /AWS Marketplace \(`\/aws` and its \/v1 routes\): set AWS_MARKETPLACE_PRODUCT_CODE/)
  t.notOk(Object.keys(doc.paths).some((p) => p.startsWith('/heroku') || p.startsWith('/aws') || p.startsWith('/docs')), 'no off or catch-all route is documented')

  const on = await build(t, { ...herokuEnv })
  const onDoc = (await on.app.inject('/openapi.json')).json()
  t.notMatch(onDoc.info.description, 'Heroku (', 'Heroku is on: not listed as off')
  t.ok(onDoc.paths['/heroku/resources'], 'its routes are documented')
})

t.test('/docs serves the API reference and every asset it links, from the gateway itself', async (t) => {
  const page = await app.inject('/docs/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, 'swagger-ui')
  t.notMatch(page.body, /(src|href)="https?:/, 'no asset from elsewhere')
  const assets = [...page.body.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]!)
  t.ok(assets.length >= 3, `links ${assets.join(', ')}`)
  for (const a of assets) t.equal((await app.inject(`/docs/${a}`)).statusCode, 200, a)
  const init = await app.inject('/docs/static/swagger-initializer.js')
  t.equal(init.statusCode, 200)
  const spec = await app.inject('/docs/json')
  t.equal(spec.statusCode, 200)
  t.ok(spec.json().paths['/v1/accounts'], 'the page reads the same document')
})

t.test('X-Forwarded-For is ignored by default and believed with MARKETGATE_TRUST_PROXY', async (t) => {
  const addressOf = async (b: typeof built) => {
    b.logs.length = 0
    await b.app.inject({ url: '/v1/accounts', headers: { ...auth, 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '10.0.0.2' })
    return b.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'incoming request')?.req?.remoteAddress
  }
  t.equal(await addressOf(built), '10.0.0.2', 'off: the socket address')
  t.equal(await addressOf(await build(t, { MARKETGATE_TRUST_PROXY: '10.0.0.0/8' })), '203.0.113.9', 'a trusted proxy: the forwarded address')
  t.equal(await addressOf(await build(t, { MARKETGATE_TRUST_PROXY: '192.0.2.1' })), '10.0.0.2', 'an untrusted hop is not believed')
})
