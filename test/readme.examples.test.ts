import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { bashSession } from './helpers/bash.session.js'
import { freePort } from './helpers/net.js'
import { exampleBlocks, serverEnvironment } from './helpers/readme.js'

// The README's examples, run as a reader runs them: the gateway its `example-server` block
// describes, then every `example` block in order in one bash session. The walk-through is
// the embedded quick start, so this runs the embedded engine whatever DATABASE_URL the suite
// has (the README's server block says which database, and it says pglite://memory).
// The whole file gets 5 minutes instead of the suite's 120 s: on two shared, loaded cores the
// gateway's start alone took 10–40 s, and the examples another 10–20 s.
t.setTimeout(300_000)

const root = new URL('..', import.meta.url).pathname
const readme = join(root, 'README.md')
const bin = join(root, 'bin/marketgate.js')
const blocks = exampleBlocks(readme)
const runnable = blocks.filter((b) => b.kind === 'example')

// What the developer's own environment might carry that would change the examples' answers.
const owned = /^(DATABASE_URL|PORT|HOST|RECEIVER_PORT|MARKETGATE_.*|HEROKU_.*|AWS_.*)$/
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !owned.test(k)))

/** What the key blocks must print, each found by what its text contains. */
const expectations = [
  { name: 'the shell reaches the gateway', block: /export MARKETGATE_URL=/, output: [/\{"status":"ready"\}/] },
  { name: 'the receiver gets an endpoint and a test event', block: /webhook-receiver\.mjs/, output: [/"secret":"whsec_/, /POST webhooks to/, /"event_id":"/] },
  {
    name: 'Heroku provisions, changes plan, signs in, refuses and deprovisions',
    block: /heroku\/sso\/login/,
    output: [/"ACME_DB_API_KEY":"mgk_/, /is now on plan pro/, /303 See Other/, /location: http:\/\/localhost:\d+\/session/, /403 Forbidden/,
      /^204$/m, /already deprovisioned/, /^410\n410$/m, /^401$/m]
  },
  { name: 'an asynchronous provision is pending, then failed', block: /ASYNC_UUID=/, output: [/HTTP 202/, /"status":"pending"/, /"provisioning_deadline_at":"/, /"status":"failed"/] },
  { name: 'an API key is checked', block: /api-keys\/verify/, output: [/"key":\{"current":true/, /HTTP 404/] },
  { name: '/v1 lists accounts and events', block: /status=active/, output: [/"status":"active"/, /"type":"account\.failed"/] },
  { name: 'a second endpoint is created and deleted', block: /billing\.internal/, output: [/"secret":"whsec_/, /^204$/m] },
  { name: 'the receiver verified every webhook', block: /cat webhooks\.log/, output: [/verified webhook\.test/, /verified account\.login/] }
]
// Every event the runnable examples cause, as the receiver prints it once verified.
const webhooks = ['webhook.test', 'account.provisioned', 'account.plan_changed', 'account.login', 'account.cancelled', 'account.pending', 'account.failed']

async function startGateway (env: NodeJS.ProcessEnv, port: number) {
  const child = spawn(process.execPath, [bin, 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const stop = async () => { if (child.exitCode === null) child.kill('SIGTERM'); return exited }
  // Bounded: readiness is polled for at most 90 s, as in cli.start.test.ts.
  for (let i = 0; i < 900; i++) {
    if (await request(`http://127.0.0.1:${port}/readyz`).then((r) => r.statusCode, () => 0) === 200) return { stop }
    if (child.exitCode !== null) throw new Error(`the gateway exited ${child.exitCode}: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`the gateway was not ready within 90 s: ${stderr}`)
}

/** Polls (bounded) until the receiver's log has every expected webhook; returns the log. */
async function receivedAll (log: string): Promise<string> {
  let text = ''
  for (let i = 0; i < 300 && !webhooks.every((type) => text.includes(`verified ${type}`)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    text = existsSync(log) ? readFileSync(log, 'utf8') : ''
  }
  return text
}

t.test('the README marks its examples: one server block, runnable and skipped ones', async (t) => {
  t.equal(blocks.filter((b) => b.kind === 'example-server').length, 1, 'one example-server block')
  t.ok(runnable.length >= expectations.length, 'runnable examples')
  t.ok(blocks.some((b) => b.kind === 'example-skip'), 'examples that need outside services are marked')
  for (const e of expectations) t.equal(runnable.filter((b) => e.block.test(b.text)).length, 1, `one runnable block: ${e.name}`)
  const env = serverEnvironment(blocks.find((b) => b.kind === 'example-server')!)
  t.ok(env.MARKETGATE_ADMIN_TOKEN && env.HEROKU_ADDON_ID && env.HEROKU_ADDON_PASSWORD && env.HEROKU_SSO_SALT, 'the server block opens /v1 and Heroku')
})

t.test('the shell session keeps state between blocks and stops at the first failing command', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mg-readme-shell-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const shell = bashSession(work, cleanEnv())
  t.teardown(() => shell.stop())
  t.same(await shell.run('GREETING=hello\nsay () { echo "$1 $GREETING"; }', 10_000), { code: 0, stdout: '', stderr: '' })
  t.equal((await shell.run('say well', 10_000)).stdout, 'well hello\n', 'variables and functions carry over')
  const failed = await shell.run('echo before\nfalse\necho after', 10_000)
  t.equal(failed.code, 1, 'set -e: the block fails')
  t.equal(failed.stdout, 'before\n', 'and nothing after the failing command runs')
})

t.test('the README examples run in order in one shell against the gateway it describes', { timeout: 240_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mg-readme-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  // The reader runs them from the repository; here a scratch dir with examples/ beside it keeps
  // webhooks.log and the shell's temporary files out of the checkout.
  symlinkSync(join(root, 'examples'), join(work, 'examples'))
  const [port, receiverPort] = [await freePort(), await freePort()]

  const server = serverEnvironment(blocks.find((b) => b.kind === 'example-server')!)
  const gateway = await startGateway({
    ...cleanEnv(), ...server, PORT: String(port), HOST: '127.0.0.1', MARKETGATE_DATA_DIR: join(work, 'data'), MARKETGATE_LOG_LEVEL: 'warn'
  }, port)
  t.teardown(() => gateway.stop())

  const shell = bashSession(work, { ...cleanEnv(), TMPDIR: work, MARKETGATE_URL: `http://127.0.0.1:${port}`, RECEIVER_PORT: String(receiverPort) })
  t.teardown(() => shell.stop())
  for (const block of runnable) {
    const where = `README.md:${block.line}`
    if (/cat webhooks\.log/.test(block.text)) {
      const log = await receivedAll(join(work, 'webhooks.log'))
      for (const type of webhooks) t.match(log, `verified ${type}`, `the receiver verified ${type}`)
      t.notMatch(log, /rejected/, 'no webhook failed verification')
    }
    const started = Date.now()
    const result = await shell.run(block.text, 60_000)
    t.comment(`${where}: ${Date.now() - started} ms`)
    if (result.code !== 0) {
      t.fail(`${where} exits 0`, { code: result.code, stdout: result.stdout, stderr: result.stderr })
      return // the blocks after it build on this one
    }
    t.pass(`${where} exits 0`)
    for (const e of expectations.filter((e) => e.block.test(block.text))) {
      for (const pattern of e.output) t.match(result.stdout, pattern, `${where}: ${e.name}`)
    }
  }
})
