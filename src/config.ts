import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * Every environment variable the gateway reads, in one schema. `loadConfig` is the only
 * reader of process.env; everything else receives the frozen Config it returns.
 */
const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(postgres(ql)?://.+|pglite://memory)$' })),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 500, default: 10 }),
  DATABASE_PREPARED_STATEMENTS: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  DATABASE_CONNECT_TIMEOUT_S: Type.Integer({ minimum: 0, maximum: 3600, default: 60 }),
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 600000, default: 5000 }),
  MARKETGATE_DATA_DIR: Type.String({ minLength: 1, default: './.marketgate' }),
  MARKETGATE_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' })),
  MARKETGATE_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  MARKETGATE_SECRET_KEY: Type.Optional(Type.String({ minLength: 32 })),
  MARKETGATE_SECRET_KEY_PREVIOUS: Type.Optional(Type.String({ minLength: 32 })),
  MARKETGATE_TRUST_PROXY: Type.Optional(Type.String({ pattern: '^(on|off|true|false|[0-9]{1,2}|[0-9a-fA-F.:/]+(\\s*,\\s*[0-9a-fA-F.:/]+)*)$' })),
  MARKETGATE_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 600000, default: 30000 }),
  MARKETGATE_AUTH_RATE_LIMIT: Type.Integer({ minimum: 1, maximum: 1000000, default: 60 }),
  MARKETGATE_WORKER_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  MARKETGATE_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 36500, default: 30 }),
  MARKETGATE_EVENT_RETENTION_DAYS: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 })),
  MARKETGATE_LOGIN_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  MARKETGATE_SERVICE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  MARKETGATE_LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  MARKETGATE_BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1048576 }),
  MARKETGATE_WORKERS: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  MARKETGATE_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 120000, default: 15000 }),
  MARKETGATE_WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  MARKETGATE_PRODUCT_ID: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', default: 'default' }),
  MARKETGATE_HOOK_URL: Type.Optional(Type.String({ minLength: 1 })),
  MARKETGATE_HOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  MARKETGATE_HOOK_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 25000, default: 20000 }),
  MARKETGATE_HOOK_ON_UNDECIDED: Type.Union([Type.Literal('allow'), Type.Literal('refuse')], { default: 'allow' }),

  HEROKU_ADDON_ID: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]*$' })),
  HEROKU_ADDON_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
  HEROKU_ADDON_NAME: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  HEROKU_SSO_SALT: Type.Optional(Type.String({ minLength: 8 })),
  HEROKU_OAUTH_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  HEROKU_API_URL: Type.String({ pattern: '^https?://', default: 'https://api.heroku.com' }),
  HEROKU_ID_URL: Type.String({ pattern: '^https?://', default: 'https://id.heroku.com' }),
  HEROKU_CONFIG_VARS_PREFIX: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' })),
  HEROKU_CONFIG_VARS: Type.String({ pattern: '^\\s*[A-Z][A-Z0-9_]*(\\s*,\\s*[A-Z][A-Z0-9_]*)*\\s*$', default: 'URL,API_KEY' }),
  HEROKU_PLANS: Type.Optional(Type.String()),
  HEROKU_REGIONS: Type.Optional(Type.String()),
  HEROKU_PROVISIONING: Type.Union([Type.Literal('sync'), Type.Literal('async')], { default: 'sync' }),
  HEROKU_ASYNC_PLANS: Type.Optional(Type.String()),
  HEROKU_CREDENTIAL_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 7 * 86400, default: 7200 }),

  AWS_MARKETPLACE_PRODUCT_CODE: Type.Optional(Type.String({ minLength: 1 })),
  AWS_REGION: Type.String({ minLength: 1, default: 'us-east-1' }),
  AWS_SQS_QUEUE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  AWS_SNS_TOPIC_ARNS: Type.Optional(Type.String()),
  AWS_EVENTS_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  AWS_PLAN_DIMENSIONS: Type.Optional(Type.String()),
  AWS_METERING_DIMENSIONS: Type.Optional(Type.String())
})
type Env = Static<typeof Env>

/** The name of every variable the gateway reads (docs and .env.example are checked against it). */
export const configVariables: readonly string[] = Object.keys(Env.properties)

/** Variables whose values never appear in messages or logs. */
export const secretVariables = new Set([
  'DATABASE_URL', 'MARKETGATE_ADMIN_TOKEN', 'MARKETGATE_SECRET_KEY', 'MARKETGATE_SECRET_KEY_PREVIOUS', 'HEROKU_ADDON_PASSWORD',
  'HEROKU_SSO_SALT', 'HEROKU_OAUTH_CLIENT_SECRET', 'AWS_EVENTS_SECRET', 'MARKETGATE_HOOK_SECRET'
])

export interface Config {
  port: number
  host: string
  database: {
    url: string | undefined
    dataDir: string
    poolSize: number
    preparedStatements: boolean
    /** How long start-up keeps retrying an unreachable database before giving up (exit 78). */
    connectTimeoutS: number
    /** Postgres statement_timeout and client query timeout: a hung database answers 503 within it (0: no timeouts). */
    statementTimeoutMs: number
  }
  publicUrl: string
  adminToken: string | undefined
  secretKey: string | undefined
  /** The key before a rotation: still opens secrets sealed under it until `rotate-secret-key` re-seals them. */
  secretKeyPrevious: string | undefined
  /** Fastify's trustProxy: false (default), a hop count (`on` is 1), or a list of proxy addresses/CIDRs. */
  trustProxy: boolean | number | string[]
  /** Whole-request deadline (headers and body): a slow sender is cut with 408. */
  requestTimeoutMs: number
  /** Failed credential checks a client address may make per minute before 429. */
  authRateLimit: number
  /** `marketgate worker`'s port for /healthz, /readyz and /metrics. */
  workerPort: number
  /** Days finished work is kept (delivered webhooks, message ids, jobs, sent usage); events: undefined keeps them for ever. */
  retention: { days: number, eventDays: number | undefined }
  loginUrl: string | undefined
  serviceUrl: string
  logLevel: string
  bodyLimit: number
  workers: boolean
  /** Deadline of one webhook attempt (connect, headers, body excerpt). */
  webhookTimeoutMs: number
  /** Webhook attempts one worker keeps in flight. */
  webhookConcurrency: number
  /** The one product the environment configures (CONTRACT §6): every account belongs to it. */
  productId: string
  /** The vendor's hook (contract §7) for the environment's product; undefined: every request is allowed. */
  hook: {
    url: string
    /** `whsec_…`: signs every ask, like a webhook endpoint's secret. */
    secret: string
    /** The deadline of one ask (1000–25000 ms); a caller may set a shorter one. */
    timeoutMs: number
    /** What marketplaces that cannot wait (Azure, Google plan changes) do when the hook does not decide. */
    onUndecided: 'allow' | 'refuse'
  } | undefined
  heroku: {
    addonId: string
    /** The manifest's display name (HEROKU_ADDON_NAME, default the id). */
    addonName: string
    password: string
    ssoSalt: string | undefined
    oauthClientSecret: string | undefined
    apiUrl: string
    idUrl: string
    configVarsPrefix: string
    /** HEROKU_CONFIG_VARS: the config var names (after the prefix) the add-on sets; default URL, API_KEY. */
    configVars: string[]
    plans: string[] | undefined
    regions: string[] | undefined
    provisioning: 'sync' | 'async'
    asyncPlans: string[]
    /** How long a rotated-out API key keeps working. */
    credentialGraceSeconds: number
  } | undefined
  aws: {
    productCode: string
    region: string
    sqsQueueUrl: string | undefined
    snsTopicArns: string[]
    eventsSecret: string | undefined
    /** dimension → plan name; a dimension not listed names its own plan. */
    planDimensions: Record<string, string>
    meteringDimensions: string[] | undefined
  } | undefined
}

export class ConfigError extends Error {
  constructor (readonly variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}

const list = (v: string | undefined): string[] | undefined =>
  v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== '')

function pairs (variable: string, v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of list(v) ?? []) {
    const [k, val] = item.split('=').map((s) => s.trim())
    if (!k || !val) throw new ConfigError(variable, `expected dimension=plan pairs separated by commas, got "${item}"`)
    out[k] = val
  }
  return out
}

/**
 * Parses the environment into a frozen Config, or throws one ConfigError naming the first
 * bad variable. Messages describe the rule broken, never the value, so secrets stay out.
 */
export function loadConfig (env: Record<string, string | undefined>): Readonly<Config> {
  const raw: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(env)) if (k in Env.properties && v !== undefined && v !== '') raw[k] = v
  const converted = Value.Convert(Env, Value.Default(Env, raw))
  const firstError = Value.Errors(Env, converted).First()
  if (firstError) {
    const variable = firstError.path.replace(/^\//, '').split('/')[0] || 'environment'
    throw new ConfigError(variable, describe(firstError.message, variable, firstError.schema as RuleSchema))
  }
  const e = converted as Env

  const publicUrl = (e.MARKETGATE_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '')
  const usesPostgres = e.DATABASE_URL !== undefined && e.DATABASE_URL.startsWith('postgres')
  if (usesPostgres && e.MARKETGATE_SECRET_KEY === undefined) {
    throw new ConfigError('MARKETGATE_SECRET_KEY', 'required with DATABASE_URL=postgres://… (32 or more characters, e.g. `openssl rand -base64 32`)')
  }

  let heroku: Config['heroku']
  if (e.HEROKU_ADDON_ID !== undefined || e.HEROKU_ADDON_PASSWORD !== undefined) {
    if (e.HEROKU_ADDON_ID === undefined) throw new ConfigError('HEROKU_ADDON_ID', 'required when HEROKU_ADDON_PASSWORD is set')
    if (e.HEROKU_ADDON_PASSWORD === undefined) throw new ConfigError('HEROKU_ADDON_PASSWORD', 'required when HEROKU_ADDON_ID is set')
    heroku = {
      addonId: e.HEROKU_ADDON_ID,
      addonName: e.HEROKU_ADDON_NAME ?? e.HEROKU_ADDON_ID,
      password: e.HEROKU_ADDON_PASSWORD,
      ssoSalt: e.HEROKU_SSO_SALT,
      oauthClientSecret: e.HEROKU_OAUTH_CLIENT_SECRET,
      apiUrl: e.HEROKU_API_URL.replace(/\/+$/, ''),
      idUrl: e.HEROKU_ID_URL.replace(/\/+$/, ''),
      configVarsPrefix: e.HEROKU_CONFIG_VARS_PREFIX ?? e.HEROKU_ADDON_ID.toUpperCase().replace(/-/g, '_'),
      configVars: [...new Set(list(e.HEROKU_CONFIG_VARS))],
      plans: list(e.HEROKU_PLANS),
      regions: list(e.HEROKU_REGIONS),
      provisioning: e.HEROKU_PROVISIONING,
      asyncPlans: list(e.HEROKU_ASYNC_PLANS) ?? [],
      credentialGraceSeconds: e.HEROKU_CREDENTIAL_GRACE_SECONDS
    }
    // Finishing an asynchronous provision calls the Platform API with the grant's token.
    if ((heroku.provisioning === 'async' || heroku.asyncPlans.length > 0) && heroku.oauthClientSecret === undefined) {
      throw new ConfigError('HEROKU_OAUTH_CLIENT_SECRET', 'required for asynchronous provisioning (HEROKU_PROVISIONING=async or HEROKU_ASYNC_PLANS)')
    }
  }

  let hook: Config['hook']
  if (e.MARKETGATE_HOOK_URL !== undefined) {
    if (!/^https?:\/\/[^\s/?#]+([/?#]\S*)?$/.test(e.MARKETGATE_HOOK_URL)) throw new ConfigError('MARKETGATE_HOOK_URL', 'must be an http:// or https:// URL')
    if (e.MARKETGATE_HOOK_SECRET === undefined) throw new ConfigError('MARKETGATE_HOOK_SECRET', 'required when MARKETGATE_HOOK_URL is set (whsec_ followed by base64, like a webhook secret)')
    // Standard Webhooks secrets: whsec_ + base64 of 24 to 64 bytes (32 to 88 characters).
    if (!/^whsec_[A-Za-z0-9+/]{30,86}={0,2}$/.test(e.MARKETGATE_HOOK_SECRET)) throw new ConfigError('MARKETGATE_HOOK_SECRET', 'must be whsec_ followed by base64 of 24 to 64 random bytes (e.g. whsec_$(openssl rand -base64 32))')
    hook = { url: e.MARKETGATE_HOOK_URL, secret: e.MARKETGATE_HOOK_SECRET, timeoutMs: e.MARKETGATE_HOOK_TIMEOUT_MS, onUndecided: e.MARKETGATE_HOOK_ON_UNDECIDED }
  } else if (e.MARKETGATE_HOOK_SECRET !== undefined) {
    throw new ConfigError('MARKETGATE_HOOK_URL', 'required when MARKETGATE_HOOK_SECRET is set')
  }

  let aws: Config['aws']
  if (e.AWS_MARKETPLACE_PRODUCT_CODE !== undefined) {
    const code = e.AWS_MARKETPLACE_PRODUCT_CODE
    aws = {
      productCode: code,
      region: e.AWS_REGION,
      sqsQueueUrl: e.AWS_SQS_QUEUE_URL,
      // The two SaaS topics AWS creates per product live in us-east-1, account 287250355862.
      snsTopicArns: list(e.AWS_SNS_TOPIC_ARNS) ?? [
        `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${code}`,
        `arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-${code}`
      ],
      eventsSecret: e.AWS_EVENTS_SECRET,
      planDimensions: pairs('AWS_PLAN_DIMENSIONS', e.AWS_PLAN_DIMENSIONS),
      meteringDimensions: list(e.AWS_METERING_DIMENSIONS)
    }
  }

  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    database: {
      url: e.DATABASE_URL,
      dataDir: e.MARKETGATE_DATA_DIR,
      poolSize: e.DATABASE_POOL_SIZE,
      preparedStatements: e.DATABASE_PREPARED_STATEMENTS === 'on',
      connectTimeoutS: e.DATABASE_CONNECT_TIMEOUT_S,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS
    },
    publicUrl,
    adminToken: e.MARKETGATE_ADMIN_TOKEN,
    secretKey: e.MARKETGATE_SECRET_KEY,
    secretKeyPrevious: e.MARKETGATE_SECRET_KEY_PREVIOUS,
    trustProxy: trustProxyOf(e.MARKETGATE_TRUST_PROXY),
    requestTimeoutMs: e.MARKETGATE_REQUEST_TIMEOUT_MS,
    authRateLimit: e.MARKETGATE_AUTH_RATE_LIMIT,
    workerPort: e.MARKETGATE_WORKER_PORT,
    retention: { days: e.MARKETGATE_RETENTION_DAYS, eventDays: e.MARKETGATE_EVENT_RETENTION_DAYS },
    loginUrl: e.MARKETGATE_LOGIN_URL,
    serviceUrl: (e.MARKETGATE_SERVICE_URL ?? publicUrl).replace(/\/+$/, ''),
    logLevel: e.MARKETGATE_LOG_LEVEL,
    bodyLimit: e.MARKETGATE_BODY_LIMIT,
    workers: e.MARKETGATE_WORKERS === 'on',
    webhookTimeoutMs: e.MARKETGATE_WEBHOOK_TIMEOUT_MS,
    webhookConcurrency: e.MARKETGATE_WEBHOOK_CONCURRENCY,
    productId: e.MARKETGATE_PRODUCT_ID,
    hook,
    heroku,
    aws
  })
}

/** off/false (default), on/true (one proxy), a hop count, or comma-separated proxy addresses or CIDRs. */
function trustProxyOf (v: string | undefined): boolean | number | string[] {
  if (v === undefined || v === 'off' || v === 'false') return false
  // `on` means one proxy in front (a hop count of 1), not "believe every X-Forwarded-For
  // entry": that would take the left-most entry, which the client writes itself.
  if (v === 'on' || v === 'true') return 1
  if (/^[0-9]+$/.test(v)) return Number(v)
  return list(v) ?? []
}

/** The parts of a variable's schema that describe its rule. */
interface RuleSchema { anyOf?: Array<{ const?: unknown }>, type?: unknown, minimum?: number, maximum?: number }

/**
 * The rule a variable broke, in words an operator can act on: the allowed values of an enum
 * (TypeBox says only "Expected union value"), the range of a number. Never the value itself.
 */
function describe (message: string, variable: string, schema: RuleSchema): string {
  const literals = schema.anyOf?.map((s) => s.const)
  if (literals !== undefined && literals.length > 0 && literals.every((v) => typeof v === 'string')) {
    return `must be one of ${literals.join(', ')}`
  }
  if (schema.type === 'integer') {
    if (schema.minimum !== undefined && schema.maximum !== undefined) return `must be an integer from ${schema.minimum} to ${schema.maximum}`
    if (schema.minimum !== undefined) return `must be an integer of at least ${schema.minimum}`
    return 'must be an integer'
  }
  if (secretVariables.has(variable)) return message.replace(/".*"/, 'value')
  return message
}
