import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { runBin, startBin } from '../../helpers/bin.js'
import { freePort } from '../../helpers/net.js'

// The real bin, as a user types it: exit codes (64 usage, 75 in use, 78 configuration), help
// that never runs the command, flags that are honoured or refused, the start-up summary.

t.setTimeout(300_000) // several real processes, on two shared cores

function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('help runs nothing; --version prints the version; usage errors exit 64 with a line', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  const [help, version, unknown, badFlag, manifest] = await Promise.all([
    runBin(['migrate', '--help'], { MARKETGATE_DATA_DIR: dataDir }),
    runBin(['--version']),
    runBin(['frobnicate']),
    runBin(['start', '--prot', '4000'], { MARKETGATE_DATA_DIR: dataDir }),
    runBin(['manifest'])
  ])
  t.equal(help.code, 0)
  t.match(help.stdout, /^usage: marketgate migrate/)
  t.notOk(existsSync(dataDir), 'migrate --help did not open or create a database')
  t.equal(version.code, 0)
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  t.equal(unknown.code, 64)
  t.match(unknown.stderr, /^marketgate: unknown command "frobnicate"\n/)
  t.equal(badFlag.code, 64)
  t.match(badFlag.stderr, /Unknown option '--prot'/)
  t.notOk(existsSync(dataDir), 'a refused flag started nothing')
  t.equal(manifest.code, 64)
  t.match(manifest.stderr, /manifest heroku/)
})

t.test('configuration errors exit 78 with one line naming the variable or flag', async (t) => {
  const [unreachable, port, flag, manifest] = await Promise.all([
    runBin(['start'], { DATABASE_URL: 'postgres://app:very-secret-pw@127.0.0.1:1/mg', DATABASE_CONNECT_TIMEOUT_S: '1', MARKETGATE_SECRET_KEY: 'cli-test-secret-key-0123456789-0123456789' }),
    runBin(['start'], { PORT: 'eighty' }),
    runBin(['start', '--port', 'eighty']),
    runBin(['manifest', 'heroku'])
  ])
  t.equal(unreachable.code, 78, 'an unreachable database, after retrying for DATABASE_CONNECT_TIMEOUT_S')
  t.match(unreachable.stderr, /^marketgate: the database at postgres:\/\/app@127\.0\.0\.1:1\/mg \(DATABASE_URL\) was unreachable for 1 s/m)
  t.equal(unreachable.stderr.split('\n').filter((l) => l.startsWith('marketgate:')).length, 1, 'one line')
  t.notMatch(unreachable.stderr + unreachable.stdout, /very-secret-pw|\n\s+at /, 'no password, no stack')
  t.equal(port.code, 78)
  t.match(port.stderr, /^marketgate: configuration error: PORT: .*\n$/)
  t.equal(flag.code, 78)
  t.match(flag.stderr, /PORT: .*\(from --port\)\n$/)
  t.equal(manifest.code, 78)
  t.match(manifest.stderr, /HEROKU_ADDON_ID/)
})

t.test('start --port listens there and logs one start-up summary; a worker on its data dir exits 75', { timeout: 240_000 }, async (t) => {
  const dataDir = tempDir(t)
  const port = await freePort()
  const gateway = await startBin(['start', '--port', String(port), '--host', '127.0.0.1'], {
    MARKETGATE_DATA_DIR: dataDir, MARKETGATE_LOG_LEVEL: 'info', HEROKU_ADDON_ID: 'acme', HEROKU_ADDON_PASSWORD: 'cli-test-password'
  }, `http://127.0.0.1:${port}/readyz`)
  t.teardown(() => gateway.stop())
  const lines = gateway.output().stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
  const summary = lines.filter((l) => l.role === 'gateway')
  t.equal(summary.length, 1, 'one summary line')
  t.match(summary[0], { engine: 'pglite', data: dataDir, marketplaces: ['heroku'], v1: /^closed/, workers: 'on', publicUrl: `http://localhost:${port}` })
  t.notMatch(gateway.output().stdout, /cli-test-password/)
  t.notMatch(gateway.output().stderr, /AWS SDK|NodeVersionSupportWarning/, 'no SDK notice on stderr')


  const worker = await runBin(['worker'], { MARKETGATE_DATA_DIR: dataDir })
  t.equal(worker.code, 75)
  t.match(worker.stderr, /^marketgate: the embedded database in .* is in use by process \d+/)
  t.equal(worker.stderr.trim().split('\n').length, 1, 'one line, no stack')
  t.equal(await gateway.stop(), 0)
})

t.test('marketgate worker serves /healthz, /readyz and /metrics on its own port', { timeout: 240_000 }, async (t) => {
  const port = await freePort()
  const worker = await startBin(['worker', '--port', String(port), '--host', '127.0.0.1'], { DATABASE_URL: 'pglite://memory', MARKETGATE_LOG_LEVEL: 'info' }, `http://127.0.0.1:${port}/readyz`)
  t.teardown(() => worker.stop())
  const health = await request(`http://127.0.0.1:${port}/healthz`)
  t.same(await health.body.json(), { status: 'ok' })
  const metrics = await request(`http://127.0.0.1:${port}/metrics`)
  const text = await metrics.body.text()
  t.match(text, /^marketgate_process_cpu_user_seconds_total /m)
  t.notMatch(text, /process_process_/, 'no doubled prefix')
  t.match(text, /marketgate_webhook/, 'the delivery worker\'s metrics')
  t.match(worker.output().stdout, /"role":"worker"/)
  t.notMatch(worker.output().stdout, /\/readyz|\/metrics|\/healthz/, 'probes and scrapes are not logged at info')
  t.equal(await worker.stop(), 0)
})

t.test('a port in use stops the start with one line and exit 75, before any work is claimed', async (t) => {
  const { createServer } = await import('node:net')
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => taken.close(resolve)))
  const port = (taken.address() as { port: number }).port
  const result = await runBin(['start', '--port', String(port), '--host', '127.0.0.1'], { DATABASE_URL: 'pglite://memory' })
  t.equal(result.code, 75)
  t.match(result.stderr, new RegExp(`^marketgate: port ${port} on 127\\.0\\.0\\.1 is in use by another process\\n$`))
})
