import { parseArgs, type ParseArgsConfig } from 'node:util'
import { readFileSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import { loadConfig, ConfigError, type Config } from './config.js'
import { createLogger } from './logger.js'
import { startGateway, startWorkerProcess } from './server.js'
import { herokuManifestText } from './manifest.js'
import { openDatabase } from './storage/database.js'
import { migrateWithoutTimeouts } from './storage/migrate.js'
import { startupFailure } from './startup.errors.js'

/**
 * Exit codes, after BSD's sysexits (documented in the README): a script can tell a typo from
 * a configuration to fix from a data dir that another process holds.
 */
export const exitCodes = { ok: 0, failure: 1, usage: 64, inUse: 75, config: 78 } as const

interface Command {
  summary: string
  usage: string
  options: NonNullable<ParseArgsConfig['options']>
  /** Positional arguments the command takes, at most. */
  positionals: number
}

const listen = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' }
} as const

const commands: Record<string, Command> = {
  start: {
    summary: 'apply pending migrations and serve (the default command)',
    usage: 'marketgate start [--port N] [--host ADDRESS]\n\n  --port, -p   listen port (overrides PORT)\n  --host       listen address (overrides HOST)',
    options: listen,
    positionals: 0
  },
  migrate: {
    summary: 'apply pending migrations and exit',
    usage: 'marketgate migrate',
    options: {},
    positionals: 0
  },
  worker: {
    summary: 'run the background workers only, with /healthz, /readyz and /metrics on MARKETGATE_WORKER_PORT',
    usage: 'marketgate worker [--port N] [--host ADDRESS]\n\n  Webhook delivery, marketplace jobs, polling, reconciliation and metering, without the\n  marketplace routes. Pair with MARKETGATE_WORKERS=off on the gateways. Needs Postgres\n  (DATABASE_URL) to run beside a gateway: an embedded database belongs to one process.\n\n  --port, -p   health and metrics port (overrides MARKETGATE_WORKER_PORT, default 3001)\n  --host       their listen address (overrides HOST)',
    options: listen,
    positionals: 0
  },
  manifest: {
    summary: 'print a marketplace manifest for this configuration (manifest heroku)',
    usage: 'marketgate manifest heroku\n\n  Prints the Heroku addon-manifest.json whose URLs, config var names and credentials\n  match this gateway\'s configuration.',
    options: {},
    positionals: 1
  },
  'rotate-secret-key': {
    summary: 're-seal every stored secret under MARKETGATE_SECRET_KEY (MARKETGATE_SECRET_KEY_PREVIOUS set)',
    usage: 'marketgate rotate-secret-key\n\n  Run after every instance has the new MARKETGATE_SECRET_KEY and the old key in\n  MARKETGATE_SECRET_KEY_PREVIOUS; afterwards MARKETGATE_SECRET_KEY_PREVIOUS can be removed.\n  Safe to run while gateways serve, and to run again.',
    options: {},
    positionals: 0
  },
  help: {
    summary: 'this text (also --help or -h after any command)',
    usage: 'marketgate help [command]',
    options: {},
    positionals: 1
  }
}

const generalUsage = `usage: marketgate [command] [options]

commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(19)}${c.summary}`).join('\n')}

options:
  -h, --help         help for the command, doing nothing else
  --version          print the version

exit codes: 0 done, 1 unexpected failure, 64 usage error, 75 embedded database in use,
78 configuration error (including an unreachable database or a secret key that does not fit)`

/** The package's version: package.json sits one folder up from src/, two from dist/src/. */
export function version (): string {
  const file = new URL(import.meta.url.includes('/dist/src/') ? '../../package.json' : '../package.json', import.meta.url)
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

/** Thrown for a command line that cannot be understood: printed with the usage, exit 64. */
class UsageError extends Error {}

/** What the command line asks for, before any configuration is read. */
export type Invocation =
  | { kind: 'help', text: string }
  | { kind: 'version' }
  | { kind: 'run', command: string, positionals: string[], values: Record<string, string | boolean | undefined> }

/** Parses argv; `--help`/`-h` anywhere wins over everything else, so it never runs a command. */
export function parseInvocation (argv: string[]): Invocation {
  const first = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined
  const name = first ?? 'start'
  const command = commands[name]
  if (argv.includes('--help') || argv.includes('-h')) {
    return { kind: 'help', text: command && first !== undefined && name !== 'help' ? `usage: ${command.usage}` : generalUsage }
  }
  if (argv.includes('--version')) return { kind: 'version' }
  if (command === undefined) throw new UsageError(`unknown command "${name}"`)
  let parsed
  try {
    parsed = parseArgs({ args: first === undefined ? argv : argv.slice(1), options: command.options, strict: true, allowPositionals: true })
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''))
  }
  if (parsed.positionals.length > command.positionals) throw new UsageError(`${name}: unexpected argument "${parsed.positionals[command.positionals]}"`)
  return { kind: 'run', command: name, positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | undefined> }
}

function fail (code: number, line: string): never {
  process.stderr.write(`marketgate: ${line}\n`)
  process.exit(code)
}

/** Flags override their environment variables, through the same schema (so `--port x` is refused like PORT=x). */
function configOf (env: NodeJS.ProcessEnv, invocation: Extract<Invocation, { kind: 'run' }>): Readonly<Config> {
  const overrides: Record<string, string> = {}
  const { port, host } = invocation.values
  if (typeof port === 'string') overrides[invocation.command === 'worker' ? 'MARKETGATE_WORKER_PORT' : 'PORT'] = port
  if (typeof host === 'string') overrides.HOST = host
  try {
    return loadConfig({ ...env, ...overrides })
  } catch (err) {
    if (err instanceof ConfigError) {
      const flag = Object.keys(overrides).includes(err.variable) ? ` (from ${err.variable === 'HOST' ? '--host' : '--port'})` : ''
      fail(exitCodes.config, `configuration error: ${err.message}${flag}`)
    }
    throw err
  }
}

/** The `marketgate` command line. Returns when the command is done (start and worker: on a signal). */
export async function main (argv: string[]): Promise<void> {
  let invocation: Invocation
  try {
    invocation = parseInvocation(argv)
  } catch (err) {
    if (err instanceof UsageError) fail(exitCodes.usage, `${err.message}\n${generalUsage}`)
    throw err
  }
  if (invocation.kind === 'help') { process.stdout.write(`${invocation.text}\n`); return }
  if (invocation.kind === 'version') { process.stdout.write(`${version()}\n`); return }
  if (invocation.command === 'help') {
    const topic = invocation.positionals[0]
    const command = topic === undefined ? undefined : commands[topic]
    if (topic !== undefined && command === undefined) fail(exitCodes.usage, `unknown command "${topic}"\n${generalUsage}`)
    process.stdout.write(`${command ? `usage: ${command.usage}` : generalUsage}\n`)
    return
  }

  const config = configOf(process.env, invocation)
  const logger = createLogger(config.logLevel)
  // Failures we can explain (configuration, a database that never answered, a key that does not
  // fit, a data dir in use) are one line and a documented code; anything else is a bug: logged whole.
  const onStartFailure = (err: unknown): never => {
    const known = startupFailure(err)
    if (known) fail(known.exitCode, known.line)
    logger.fatal({ err }, 'failed to start')
    process.exit(exitCodes.failure)
  }

  switch (invocation.command) {
    case 'start': {
      const gateway = await startGateway(config, logger).catch(onStartFailure)
      stopOnSignal(() => gateway.stop(), logger)
      return
    }
    case 'worker': {
      const worker = await startWorkerProcess(config, logger).catch(onStartFailure)
      stopOnSignal(() => worker.stop(), logger)
      return
    }
    case 'migrate': {
      const databaseDeps = { log: logger.child({ component: 'database' }) }
      const database = await openDatabase(config.database, databaseDeps).catch(onStartFailure)
      try {
        const results = await migrateWithoutTimeouts(database, config.database, databaseDeps, { productId: config.productId }).catch(onStartFailure)
        process.stdout.write(results.length === 0 ? 'migrations: nothing to apply\n' : results.map((r) => `${r.status}: ${r.migrationName}\n`).join(''))
      } finally {
        await database.close()
      }
      return
    }
    case 'rotate-secret-key': {
      const { rotateSecretKeyCommand, RotationIncompleteError } = await import('./rotate.command.js')
      const report = await rotateSecretKeyCommand(config, logger).catch((err: unknown) => {
        if (err instanceof RotationIncompleteError) { process.stdout.write(err.report); process.exit(exitCodes.failure) }
        return onStartFailure(err)
      })
      process.stdout.write(report)
      return
    }
    case 'manifest': {
      const kind = invocation.positionals[0]
      if (kind !== 'heroku') fail(exitCodes.usage, kind === undefined ? 'manifest: name the marketplace (try: manifest heroku)' : `unknown manifest "${kind}" (try: manifest heroku)`)
      const text = herokuManifestText(config)
      if (text === undefined) fail(exitCodes.config, 'configuration error: HEROKU_ADDON_ID: set HEROKU_ADDON_ID and HEROKU_ADDON_PASSWORD to describe a Heroku add-on')
      process.stdout.write(text)
      return
    }
  }
}

/**
 * SIGINT/SIGTERM stop gracefully (finish in-flight requests and worker steps, close the
 * database); a second signal, or a stop that hangs past 30 s, exits at once (close-with-grace).
 * An uncaught error is a bug: logged whole, then the same graceful stop, exit 1.
 */
function stopOnSignal (stop: () => Promise<void>, logger: ReturnType<typeof createLogger>): void {
  closeWithGrace({ delay: 30_000, logger: { error: (m: unknown) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.fatal({ err }, 'uncaught error: stopping')
    else logger.info({ signal }, 'stopping')
    await stop()
  })
}

