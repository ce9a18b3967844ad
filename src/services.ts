import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { Kysely } from 'kysely'
import { createLifecycle, type AccountReader, type Clock, type Lifecycle, type LifecycleStore, type Random } from '../core/index.js'
import type { Config } from './config.js'
import { ConfigError } from './config.js'
import { createSecretBox, type SecretBox } from './crypto/secret-box.js'
import { createJobQueue, type LocalJobQueue } from './jobs/job.queue.js'
import { createMetricsRegistry } from './http/metrics.js'
import { createLoginService, type LoginService } from './login/login.handoff.js'
import { createRandom, systemClock } from './random.js'
import { createAccountStore } from './storage/account.store.js'
import { openDatabase, type DatabaseHandle } from './storage/database.js'
import { migrateWithoutTimeouts } from './storage/migrate.js'
import { verifySecretKey } from './storage/secret-key.check.js'
import type { Database } from './storage/tables.js'
import { createHooks, type Hooks } from './hooks/hook.wiring.js'
import type { Deadline } from './hooks/hook.http.js'

/** Everything the app and the workers share; built once per process (or per test). */
export interface Services {
  config: Readonly<Config>
  logger: Logger
  clock: Clock
  random: Random
  database: DatabaseHandle
  db: Kysely<Database>
  secrets: SecretBox
  accounts: LifecycleStore & AccountReader
  lifecycle: Lifecycle
  /** Login tickets and sessions after a marketplace sign-in (the LoginHandoff port). */
  login: LoginService
  metrics: Registry
  /** The durable job queue (jobs table); its wake-ups reach this process's job worker. */
  jobs: LocalJobQueue
  /** The vendor's hook (contract §7), its decisions and the config it handed out. */
  hooks: Hooks
  close(): Promise<void>
}

export interface ServiceOptions {
  config: Readonly<Config>
  logger: Logger
  clock?: Clock
  random?: Random
  /** An already open database (tests); otherwise opened from config. */
  database?: DatabaseHandle
  /** Apply pending migrations first (default true). */
  migrate?: boolean
  /** Replaces the hook's deadline timer (tests). */
  hookDeadline?: Deadline
}

export async function createServices (options: ServiceOptions): Promise<Services> {
  const { config, logger } = options
  const clock = options.clock ?? systemClock
  const random = options.random ?? createRandom(clock)
  const databaseDeps = { log: logger.child({ component: 'database' }) }
  const database = options.database ?? await openDatabase(config.database, databaseDeps)
  if (options.migrate ?? true) {
    const results = await migrateWithoutTimeouts(database, config.database, databaseDeps, { productId: config.productId })
    for (const r of results) logger.info({ migration: r.migrationName, status: r.status }, 'migration')
  }
  const secrets = createSecretBox(resolveSecretKey(config), config.secretKeyPrevious)
  try {
    // After the migrations (the check has a table of its own), before anything serves: a key
    // that cannot open the stored secrets stops the start here (SecretKeyMismatchError).
    await verifySecretKey({ db: database.db, secrets, keyName: secretKeyName(config), logger })
  } catch (err) {
    // Only a database this call opened is ours to close.
    if (options.database === undefined) await database.close()
    throw err
  }
  const accounts = createAccountStore({ db: database.db, clock, random })
  const metrics = createMetricsRegistry()
  const hooks = createHooks({ config, db: database.db, secrets, clock, random, logger, metrics, deadline: options.hookDeadline })
  return {
    config,
    logger,
    clock,
    random,
    database,
    db: database.db,
    secrets,
    accounts,
    lifecycle: createLifecycle({ store: accounts }),
    login: createLoginService({ db: database.db, secrets, clock, random, publicUrl: config.publicUrl, loginUrl: config.loginUrl }),
    metrics,
    jobs: createJobQueue({ db: database.db, clock, random, secrets }),
    hooks,
    close: async () => { await hooks.close(); await database.close() }
  }
}

/** Where the secret key comes from, for messages: the variable, or the data dir's file. Never the key. */
export function secretKeyName (config: Readonly<Config>): string {
  if (config.secretKey !== undefined) return 'MARKETGATE_SECRET_KEY'
  if (config.database.url === 'pglite://memory') return 'the throw-away key of pglite://memory'
  return `the key in ${config.database.dataDir}/secret.key (MARKETGATE_SECRET_KEY is not set)`
}

/**
 * MARKETGATE_SECRET_KEY when set. The embedded default keeps a generated key beside its data
 * (mode 0600) so secrets sealed before a restart open after it; a throw-away in-memory
 * database gets a throw-away key.
 */
export function resolveSecretKey (config: Readonly<Config>): string {
  if (config.secretKey !== undefined) return config.secretKey
  const url = config.database.url
  if (url === 'pglite://memory') return randomBytes(32).toString('base64')
  if (url !== undefined) throw new ConfigError('MARKETGATE_SECRET_KEY', 'required with DATABASE_URL=postgres://…')
  const file = `${config.database.dataDir}/secret.key`
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(config.database.dataDir, { recursive: true })
  const key = randomBytes(32).toString('base64')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
  return key
}
