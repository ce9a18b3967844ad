import { ResolveCustomerCommand, type ResolveCustomerCommandOutput } from '@aws-sdk/client-marketplace-metering'
import type { Account, Clock, Command, Entitlement, Lifecycle } from '../../core/index.js'
import { describeAwsError, type AwsClients } from './aws.clients.js'
import { locate, locateAndWrite, type CustomerFacts, type LocateDeps } from './account.locate.js'
import { planFor, type EntitlementSubject } from './entitlements.js'
import type { NotificationHandler } from './notification.handler.js'
import { factsOf } from './notification.handler.js'
import type { RegistrationPage } from './register.page.js'

/** Registration ended early: which page the buyer sees, and what to log (never the token). */
export class RegistrationError extends Error {
  constructor (readonly page: RegistrationPage, readonly log: Record<string, unknown> = {}) {
    super(page)
    this.name = 'RegistrationError'
  }
}

export interface RegisterDeps extends LocateDeps {
  productCode: string
  planDimensions: Record<string, string>
  clients: Pick<AwsClients, 'metering'>
  lifecycle: Lifecycle
  clock: Clock
  fetchEntitlements: (who: EntitlementSubject) => Promise<Entitlement[]>
  handler: Pick<NotificationHandler, 'releaseFor'>
  /** Keyed digests (never reversible; the current key's first): how a second submit of one token finds its registration. */
  digests: (value: string) => string[]
  log: { warn: (obj: object, msg: string) => void }
}

const buyerErrors: Record<string, RegistrationPage> = {
  InvalidTokenException: 'invalidToken',
  ExpiredTokenException: 'expiredToken'
}

/**
 * The fulfillment step: resolves the registration token with AWS at once (tokens expire within
 * hours and on re-use), checks the product, upserts the account — pending until AWS confirms,
 * unless the confirmation came first — and, for contracts, stores the entitlements. A second
 * submit of the same token resumes the registration it started, without asking AWS again.
 */
export function createRegistration (deps: RegisterDeps) {
  async function resolve (token: string): Promise<ResolveCustomerCommandOutput> {
    try {
      return await deps.clients.metering.send(new ResolveCustomerCommand({ RegistrationToken: token }))
    } catch (err) {
      const e = describeAwsError(err)
      const page = buyerErrors[e.name] ?? (e.name === 'ThrottlingException' ? 'throttled' : 'unavailable')
      throw new RegistrationError(page, { awsError: e.name, awsRequestId: e.requestId, fault: e.fault })
    }
  }

  return async function register (token: string, offerType: string | undefined): Promise<Account> {
    // The token's keyed digest names the registration as an inbound message id: kept with the
    // message log, never in the account's metadata (which /v1 and every webhook show).
    // During a key rotation the first submit may have been recorded under the previous key.
    const [messageId, ...olderIds] = deps.digests(token).map((d) => `register:${d}`) as [string, ...string[]]
    let earlier = await deps.lookup.findInboundMessage('aws', messageId)
    for (const id of olderIds) earlier ??= await deps.lookup.findInboundMessage('aws', id)
    if (earlier !== undefined) {
      const found = await locate(deps, earlier.payload as CustomerFacts)
      if (found?.account !== undefined) return found.account
    }

    const r = await resolve(token)
    if (r.ProductCode !== deps.productCode) {
      throw new RegistrationError('foreignProduct', { productCode: r.ProductCode ?? null, awsRequestId: r.$metadata.requestId })
    }
    const facts = { licenseArn: r.LicenseArn || undefined, customerIdentifier: r.CustomerIdentifier || undefined, customerAccountId: r.CustomerAWSAccountId || undefined }
    const metadata = { ...factsOf(facts), productCode: r.ProductCode, freeTrial: offerType === 'free-trial' }
    // One change, one transaction: the account, its contract entitlements and the `contract`
    // flag that reconciliation looks for commit together, so a crash cannot leave a contract
    // account without them (and out of reconciliation's sight).
    const registered = await locateAndWrite(deps, facts, async (found) => {
      const command = commandFor(await entitlementsOf(facts, found.account), metadata, facts.customerAccountId ?? null)
      return deps.lifecycle.execute(found.target, command,
        { createIfAbsent: true, draft: { customerAccountId: facts.customerAccountId ?? null }, messageId, messageMarketplace: 'aws', messagePayload: facts })
    })
    if (registered === undefined) throw new RegistrationError('invalidToken', { reason: 'ResolveCustomer named no customer', awsRequestId: r.$metadata.requestId })
    const account = registered.account!
    await deps.handler.releaseFor(account)
    return account
  }

  /**
   * Pending until AWS confirms; with contract entitlements, the same `pending` status reached
   * through updateEntitlements, which also stores them, sets the plan and marks the contract.
   */
  function commandFor (entitlements: Entitlement[] | undefined, metadata: Record<string, unknown>, customerAccountId: string | null): Command {
    if (entitlements === undefined || entitlements.length === 0) return { type: 'pending', metadata, customerAccountId }
    const plan = planFor(entitlements, deps.planDimensions, deps.clock.now())
    return { type: 'updateEntitlements', entitlements, plan, metadata: { ...metadata, contract: true }, customerAccountId }
  }

  /**
   * Contracts: what the buyer bought, read at registration. Best effort: a subscription product
   * has none, and when AWS is slow the registration still completes without them (the
   * entitlement-updated or License Updated notification then fills them in, and from then on
   * the periodic reconciliation watches the account).
   */
  async function entitlementsOf (facts: EntitlementSubject, account: Account | undefined): Promise<Entitlement[] | undefined> {
    try {
      return await deps.fetchEntitlements({ ...facts, ...(account?.metadata.licenseArn ? { licenseArn: String(account.metadata.licenseArn) } : {}) })
    } catch (err) {
      const e = describeAwsError(err)
      deps.log.warn({ awsError: e.name, awsRequestId: e.requestId }, 'GetEntitlements failed at registration; reconciliation will retry')
      return undefined
    }
  }
}
