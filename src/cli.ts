import { loadConfig, ConfigError } from './config.js'
import { createLogger } from './logger.js'
import { startGateway, startWorkers } from './server.js'
import { herokuManifestText } from './manifest.js'
import { createServices } from './services.js'
import { DataDirInUseError, openDatabase } from './storage/database.js'
import { migrateToLatest } from './storage/migrate.js'

const usage = `usage: marketgate [command]

commands:
  start              apply pending migrations and serve (default)
  migrate            apply pending migrations and exit
  manifest heroku    print the Heroku addon-manifest.json for this configuration
  worker             run the background workers only (webhooks, jobs, AWS, metering), no HTTP; Postgres only
  help               this text`

/** The `marketgate` command line. Returns when the command is done (start: on a signal). */
export async function main (argv: string[]): Promise<void> {
  const [command = 'start'] = argv
  let config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`marketgate: configuration error: ${err.message}\n`)
      process.exit(78)
    }
    throw err
  }
  const logger = createLogger(config.logLevel)

  switch (command) {
    case 'start': {
      const gateway = await startGateway(config, logger).catch((err: unknown) => {
        if (err instanceof ConfigError) {
          process.stderr.write(`marketgate: configuration error: ${err.message}\n`)
          process.exit(78)
        }
        if (err instanceof DataDirInUseError) {
          process.stderr.write(`marketgate: ${err.message}\n`)
          process.exit(75)
        }
        logger.fatal({ err }, 'failed to start')
        process.exit(1)
      })
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          gateway.stop().then(() => process.exit(0), (err: unknown) => { logger.error({ err }, 'unclean stop'); process.exit(1) })
        })
      }
      return
    }
    case 'worker': {
      // Background work alone (webhook delivery, AWS polling and reconciliation, metering),
      // for scaling it apart from HTTP; pair with MARKETGATE_WORKERS=off on the gateways.
      // Needs Postgres: an embedded database belongs to one process.
      const services = await createServices({ config: { ...config, workers: true }, logger })
      const workers = await startWorkers(services)
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          workers.stop().then(() => services.close()).then(() => process.exit(0), (err: unknown) => { logger.error({ err }, 'unclean stop'); process.exit(1) })
        })
      }
      return
    }
    case 'migrate': {
      const database = await openDatabase(config.database)
      try {
        const results = await migrateToLatest(database.db)
        process.stdout.write(results.length === 0 ? 'migrations: nothing to apply\n' : results.map((r) => `${r.status}: ${r.migrationName}\n`).join(''))
      } finally {
        await database.close()
      }
      return
    }
    case 'manifest': {
      const text = argv[1] === 'heroku' ? herokuManifestText(config) : undefined
      if (text === undefined) {
        process.stderr.write(argv[1] === 'heroku'
          ? 'marketgate: configuration error: HEROKU_ADDON_ID: set HEROKU_ADDON_ID and HEROKU_ADDON_PASSWORD to describe a Heroku add-on\n'
          : `marketgate: unknown manifest "${argv[1] ?? ''}" (try: manifest heroku)\n`)
        process.exit(argv[1] === 'heroku' ? 78 : 64)
      }
      process.stdout.write(text)
      return
    }
    case 'help':
    case '--help':
      process.stdout.write(`${usage}\n`)
      return
    default:
      process.stderr.write(`marketgate: unknown command "${command}"\n${usage}\n`)
      process.exit(64)
  }
}
