import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseInvocation, version } from '../../../src/cli.js'

// The command line is parsed before any configuration is read: these need no process.

t.test('--help and -h anywhere print help and run nothing', async (t) => {
  for (const argv of [['--help'], ['-h'], ['migrate', '--help'], ['--help', 'migrate'], ['start', '-h', '--port', 'x'], ['worker', '--bogus', '-h']]) {
    const inv = parseInvocation(argv)
    t.equal(inv.kind, 'help', argv.join(' '))
  }
  const migrate = parseInvocation(['migrate', '--help'])
  t.match(migrate.kind === 'help' && migrate.text, /^usage: marketgate migrate/, 'help for the command named')
  const general = parseInvocation(['-h'])
  t.match(general.kind === 'help' && general.text, /commands:[\s\S]*start[\s\S]*exit codes: .*64 usage/)
})

t.test('--version is the package version', async (t) => {
  t.same(parseInvocation(['--version']), { kind: 'version' })
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal(version(), pkg.version)
})

t.test('the default command is start; flags are parsed per command', async (t) => {
  t.match(parseInvocation([]), { kind: 'run', command: 'start' })
  t.match(parseInvocation(['start', '--port', '4000', '--host', '127.0.0.1']), { kind: 'run', command: 'start', values: { port: '4000', host: '127.0.0.1' } })
  t.match(parseInvocation(['-p', '4001']), { kind: 'run', command: 'start', values: { port: '4001' } })
  t.match(parseInvocation(['manifest', 'heroku']), { kind: 'run', command: 'manifest', positionals: ['heroku'] })
  t.match(parseInvocation(['help', 'worker']), { kind: 'run', command: 'help', positionals: ['worker'] })
})

t.test('what is not understood is a usage error, never ignored', async (t) => {
  t.throws(() => parseInvocation(['frobnicate']), /unknown command "frobnicate"/)
  t.throws(() => parseInvocation(['start', '--prot', '4000']), /Unknown option '--prot'/)
  t.throws(() => parseInvocation(['migrate', '--port', '4000']), /Unknown option '--port'/)
  t.throws(() => parseInvocation(['start', 'now']), /unexpected argument "now"/)
  t.throws(() => parseInvocation(['manifest', 'heroku', 'aws']), /unexpected argument "aws"/)
  t.throws(() => parseInvocation(['start', '--port']), /--port/)
})
