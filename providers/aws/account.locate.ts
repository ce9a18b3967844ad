import { isMarketgateError, type Account, type AccountKey, type AccountLookup, type AccountReader, type Target } from '../../core/index.js'
import { licenseIdOf } from './notification.parse.js'

/** The facts a message or a registration knows about the customer. */
export interface CustomerFacts {
  licenseArn?: string
  customerIdentifier?: string
  agreementId?: string
  customerAccountId?: string
}

export interface Located {
  target: Target
  account: Account | undefined
}

export interface LocateDeps {
  /** The product whose accounts these are (one AWS customer of two products is two accounts). */
  product: string
  accounts: Pick<AccountReader, 'findAccount'>
  lookup: AccountLookup
}

/**
 * Finds the account a message is about, or the key to create it under.
 *
 * Keys (CONTRACT §3): the LicenseArn where AWS gives one, else the CustomerIdentifier. Every AWS
 * account also keeps `customerIdentifier`, `licenseId` and `agreementId` in its metadata, and
 * lookups fall back to those: a legacy SNS message names only the CustomerIdentifier of an
 * account keyed by its LicenseArn, and an EventBridge agreement event names only the agreement
 * (and the buyer's AWS account). We chose metadata lookups over keying legacy accounts by
 * CustomerIdentifier so that one listing moving to Concurrent Agreements keeps one key scheme.
 * The price: an account created by a legacy notification *before* registration keeps the
 * CustomerIdentifier as its key (the registration then finds it through the metadata).
 *
 * Returns undefined when nothing matches and no key can be made (an agreement event whose
 * agreement no account is linked to yet).
 */
export async function locate (deps: LocateDeps, facts: CustomerFacts): Promise<Located | undefined> {
  const keyOf = (externalId: string): AccountKey => ({ product: deps.product, marketplace: 'aws', externalId })
  const byKey = async (externalId: string): Promise<Located | undefined> => {
    const account = await deps.accounts.findAccount(keyOf(externalId))
    return account && { target: { key: keyOf(externalId) }, account }
  }
  const byFact = async (name: string, value: string | undefined): Promise<Located | undefined> => {
    if (value === undefined) return undefined
    const account = (await deps.lookup.findAccountsByFact({ product: deps.product, marketplace: 'aws' }, name, value, { limit: 1 })).data[0]
    return account && { target: { accountId: account.id }, account }
  }

  if (facts.licenseArn !== undefined) {
    return await byKey(facts.licenseArn) ?? await byFact('licenseId', licenseIdOf(facts.licenseArn)) ??
      await byFact('customerIdentifier', facts.customerIdentifier) ??
      { target: { key: keyOf(facts.licenseArn) }, account: undefined }
  }
  if (facts.customerIdentifier !== undefined) {
    return await byKey(facts.customerIdentifier) ?? await byFact('customerIdentifier', facts.customerIdentifier) ??
      { target: { key: keyOf(facts.customerIdentifier) }, account: undefined }
  }
  // An agreement event names only the agreement and the buyer's AWS account. The seller's rule
  // covers all of its products and one buyer may hold several, so the AWS account alone can
  // never say which account an agreement belongs to: only an agreement id already linked (by a
  // License Updated event naming agreement and license) does. Unknown agreements wait.
  return byFact('agreementId', facts.agreementId)
}

/**
 * Locates, then writes to what was found. Lookups run before the write's transaction, so a
 * registration (keyed by LicenseArn) and a legacy message (keyed by CustomerIdentifier) can both
 * find nothing and both create; the database's one-account-per-CustomerIdentifier index fails
 * the second (a CONFLICT). The loser then locates once more, finds the winner's account, and
 * writes there. Undefined when nothing matches and no key can be made.
 */
export async function locateAndWrite<T> (deps: LocateDeps, facts: CustomerFacts, write: (found: Located) => Promise<T>): Promise<T | undefined> {
  const found = await locate(deps, facts)
  if (found === undefined) return undefined
  try {
    return await write(found)
  } catch (err) {
    if (!isMarketgateError(err, 'CONFLICT')) throw err
    const again = await locate(deps, facts)
    if (again === undefined) throw err
    return write(again)
  }
}
