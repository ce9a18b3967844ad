import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import t from 'tap'
import { freePort } from '../../helpers/net.js'
import { chromium } from 'playwright-core'
import { build } from '../../helpers/build.js'
import { herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../helpers/heroku.js'

// A real browser through Heroku single sign-on: the dashboard's auto-submitting form, the
// 303, the cookies, and the gateway's signed-in page as a person sees it. CI installs
// Debian's chromium; elsewhere the test says it is skipped rather than passing silently.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']


t.test('a Heroku user signs in through the dashboard form and sees the signed-in page', { skip: !existsSync(executablePath) && `no browser at ${executablePath}` }, async (t) => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const b = await build(t, { ...herokuEnv, MARKETGATE_PUBLIC_URL: base })
  await b.app.listen({ port, host: '127.0.0.1' })
  const provision = await b.app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: v3Body() })
  t.equal(provision.statusCode, 200)

  const browser = await chromium.launch({ executablePath, args: flags })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const outside: string[] = []
  // Only this machine's gateway is reachable; Heroku's navigation script is recorded, not fetched.
  await page.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(base) || url.startsWith('data:') || url === 'about:blank') return route.continue()
    outside.push(url)
    return route.abort()
  })

  const timestamp = String(Math.floor(b.clock.now().getTime() / 1000))
  const token = createHash('sha1').update(`${resourceUuid}:${herokuEnv.HEROKU_SSO_SALT}:${timestamp}`).digest('hex')
  const form = (fields: Record<string, string>) => `<!doctype html><form method="post" action="${base}/heroku/sso/login">${
    Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`).join('')}</form>
    <script>document.forms[0].submit()</script>`
  // The user-scoped token signs the email: only then does the page greet the user by it.
  const userId = '11111111-2222-3333-4444-555555555555'
  const userScoped = createHash('sha256').update(`${resourceUuid}:${herokuEnv.HEROKU_SSO_SALT}:${timestamp}:${userId}:dev@example.com`).digest('hex')
  const fields = {
    resource_id: resourceUuid, resource_token: token, user_scoped_resource_token: userScoped, user_id: userId, timestamp, email: 'dev@example.com', app: 'my-app', 'nav-data': 'eyJhcHBuYW1lIjoibXktYXBwIn0'
  }

  await Promise.all([page.waitForURL(`${base}/session`), page.setContent(form(fields))])
  t.equal(await page.textContent('h1'), 'You are signed in')
  t.match(await page.textContent('#welcome'), /dev@example\.com/)
  t.equal(await page.textContent('#account'), resourceUuid)
  t.equal(await page.textContent('#app'), 'my-app')
  t.equal(await page.textContent('#plan'), 'basic')
  t.ok(outside.some((u) => u.includes('boomerang.js')), 'the page asks for Heroku\'s navigation')
  const cookies = await page.context().cookies(base)
  t.same(cookies.map((c) => c.name).sort(), ['heroku-nav-data', 'marketgate_session'])
  t.equal(cookies.find((c) => c.name === 'heroku-nav-data')?.value, fields['nav-data'])
  t.ok(cookies.every((c) => c.httpOnly && c.sameSite === 'Lax'))
  const events = await b.services.db.selectFrom('account_events').select('type').where('type', '=', 'account.login').execute()
  t.equal(events.length, 1)

  // The same form with a wrong token: a page that says why, and no new session.
  const fresh = await browser.newPage()
  await fresh.route('**/*', (route) => route.request().url().startsWith(base) || route.request().url() === 'about:blank' ? route.continue() : route.abort())
  const refused = fresh.waitForResponse((r) => r.url() === `${base}/heroku/sso/login`)
  await fresh.setContent(form({ ...fields, user_scoped_resource_token: '0'.repeat(64) }))
  t.equal((await refused).status(), 403)
  await fresh.waitForSelector('h1')
  t.match(await fresh.textContent('body'), /token/)
})
