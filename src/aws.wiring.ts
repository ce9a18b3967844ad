import { request } from 'undici'
import { MarketgateError, type Lifecycle, type LoginHandoff } from '../core/index.js'
import { createAwsClients, type AwsClientOverrides } from '../providers/aws/aws.clients.js'
import { createAwsProvider, type AwsProvider } from '../providers/aws/aws.provider.js'
import type { CertFetcher } from '../providers/aws/sns.signature.js'
import type { Services } from './services.js'
import { createAccountLookup } from './storage/account-lookup.store.js'
import { createLeaseStore } from './storage/lease.store.js'
import { createParkedMessageStore } from './storage/parked-message.store.js'

/** What tests (and embedders) may replace in the AWS provider. */
export interface AwsOverrides {
  clients?: AwsClientOverrides
  fetchCert?: CertFetcher
  fetchUrl?: (url: string) => Promise<void>
  loginHandoff?: LoginHandoff
}

// The URL is the sender's choice (checked to be an SNS host first): bound what it can cost us.
const fetchLimits = { maxRedirections: 0, headersTimeout: 5000, bodyTimeout: 5000 } as const

async function getText (url: string, maxBytes: number): Promise<string> {
  const res = await request(url, { method: 'GET', ...fetchLimits })
  if (res.statusCode !== 200) {
    await res.body.dump()
    throw new Error(`GET ${new URL(url).host} answered ${res.statusCode}`)
  }
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw new Error('response too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export const httpsCertFetcher: CertFetcher = (url) => getText(url, 65_536)
export const httpsConfirm = async (url: string): Promise<void> => { await getText(url, 65_536) }

/** The unique index of 2026-11-27T1200_aws_customer_unique: one AWS account per CustomerIdentifier. */
export const customerUniqueIndex = 'accounts_aws_customer_identifier_key'

/**
 * The lifecycle as the AWS provider sees it: a write that lost the race for a
 * CustomerIdentifier (unique violation on that index, pg and PGlite alike) becomes a CONFLICT,
 * which the provider answers by finding the winner's account and applying there.
 */
export function awsLifecycle (lifecycle: Lifecycle): Lifecycle {
  return {
    async execute (target, command, options) {
      try {
        return await lifecycle.execute(target, command, options)
      } catch (err) {
        const e = err as { code?: string, constraint?: string }
        if (e?.code === '23505' && e.constraint === customerUniqueIndex) {
          throw new MarketgateError('CONFLICT', 'another account holds this AWS customer', { cause: err })
        }
        throw err
      }
    }
  }
}

/** The AWS provider wired to this gateway's storage, clients and login handoff. */
export function createAwsFromServices (services: Services, overrides: AwsOverrides = {}): AwsProvider {
  const aws = services.config.aws
  if (aws === undefined) throw new Error('AWS is not configured')
  const { db, clock, random } = services
  return createAwsProvider({
    settings: { ...aws, productId: services.config.productId },
    clients: createAwsClients(aws.region, overrides.clients),
    lifecycle: awsLifecycle(services.lifecycle),
    accounts: services.accounts,
    lookup: createAccountLookup(db),
    parked: createParkedMessageStore({ db, clock, random }),
    leases: createLeaseStore({ db, clock }),
    clock,
    log: services.logger.child({ component: 'aws' }),
    digests: (v) => services.secrets.digests(`aws-registration:${v}`),
    fetchCert: overrides.fetchCert ?? httpsCertFetcher,
    fetchUrl: overrides.fetchUrl ?? httpsConfirm,
    // The gateway's login handoff (src/login); tests may replace it.
    loginHandoff: overrides.loginHandoff ?? services.login
  })
}
