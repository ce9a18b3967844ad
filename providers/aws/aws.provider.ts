import type { FastifyInstance } from 'fastify'
import type {
  AccountLookup, AccountReader, Clock, Lifecycle, LeaseStore, LoginHandoff, ParkedMessageStore
} from '../../core/index.js'
import type { AwsClients } from './aws.clients.js'
import { fetchEntitlements, type EntitlementSubject } from './entitlements.js'
import { eventsRoutes } from './events.routes.js'
import { createNotificationHandler } from './notification.handler.js'
import { createReconciler } from './reconcile.js'
import { createRegistration } from './register.service.js'
import { registerRoutes } from './register.routes.js'
import { createSnsVerifier, type CertFetcher } from './sns.signature.js'
import { snsRoutes } from './sns.routes.js'
import { createSqsPoller } from './sqs.poller.js'

/** The slice of configuration the AWS provider reads (src/config.ts `aws`). */
export interface AwsSettings {
  /** The gateway's product this listing sells (CONTRACT §6): its accounts belong to it. */
  productId: string
  productCode: string
  sqsQueueUrl: string | undefined
  snsTopicArns: string[]
  eventsSecret: string | undefined
  planDimensions: Record<string, string>
}

interface Log {
  info: (o: object, m: string) => void
  warn: (o: object, m: string) => void
  error: (o: object, m: string) => void
}

/** Everything the provider needs, handed in by src/providers.ts. */
export interface AwsProviderDeps {
  settings: AwsSettings
  clients: AwsClients
  lifecycle: Lifecycle
  accounts: Pick<AccountReader, 'findAccount'>
  lookup: AccountLookup
  parked: ParkedMessageStore
  leases: LeaseStore
  clock: Clock
  log: Log
  /** Keyed digests (SecretBox.digests: the current key's first, then the previous key's during a rotation): how a re-submitted token finds its registration. */
  digests: (value: string) => string[]
  /** Fetches a PEM signing certificate (HTTPS GET; a stub in tests). */
  fetchCert: CertFetcher
  /** Confirms an SNS subscription by GETting its SubscribeURL. */
  fetchUrl: (url: string) => Promise<void>
  loginHandoff?: LoginHandoff
}

/**
 * The AWS Marketplace provider: one notification handler shared by SNS, SQS and EventBridge,
 * the registration, and the plugin and workers built on them.
 */
export function createAwsProvider (deps: AwsProviderDeps) {
  const { settings } = deps
  const entitlements = (who: EntitlementSubject) => fetchEntitlements(deps.clients, settings.productCode, who)
  const common = { ...deps, product: settings.productId, productCode: settings.productCode, planDimensions: settings.planDimensions, fetchEntitlements: entitlements }
  const handler = createNotificationHandler(common)
  const register = createRegistration({ ...common, handler })

  /** The encapsulated plugin, registered under /aws. */
  async function plugin (app: FastifyInstance): Promise<void> {
    await app.register(registerRoutes, { register, lifecycle: deps.lifecycle, loginHandoff: deps.loginHandoff })
    const verifier = createSnsVerifier({ fetchCert: deps.fetchCert, topicArns: settings.snsTopicArns, clock: deps.clock })
    await app.register(snsRoutes, { verifier, handler, fetchUrl: deps.fetchUrl })
    await app.register(eventsRoutes, { handler, secret: settings.eventsSecret })
    // The SDK clients keep sockets open: the app's close releases them.
    app.addHook('onClose', async () => { deps.clients.destroy() })
  }

  return {
    handler,
    register,
    plugin,
    poller: (options: { maxReceives?: number, waitSeconds?: number } = {}) => settings.sqsQueueUrl === undefined
      ? undefined
      : createSqsPoller({ ...deps, ...options, queueUrl: settings.sqsQueueUrl, handler }),
    reconciler: (owner: string, leaseMs?: number) => createReconciler({ ...common, owner, leaseMs }),
    /** Releases the SDK clients' sockets (for users of the workers; the plugin closes with its app). */
    close: () => { deps.clients.destroy() }
  }
}

export type AwsProvider = ReturnType<typeof createAwsProvider>
