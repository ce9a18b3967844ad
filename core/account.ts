/**
 * The account: one per marketplace customer of a product, keyed by (product, marketplace, externalId).
 * Statuses are a const object plus a union, so the set is closed and iterable.
 */
export const AccountStatus = {
  pending: 'pending',
  active: 'active',
  suspended: 'suspended',
  cancelled: 'cancelled',
  failed: 'failed'
} as const
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus]
export const accountStatuses = Object.values(AccountStatus)

export const Marketplace = { heroku: 'heroku', aws: 'aws' } as const
export type Marketplace = (typeof Marketplace)[keyof typeof Marketplace]
export const marketplaces = Object.values(Marketplace)

export interface AccountKey {
  /** The product the customer bought (CONTRACT §6): one customer of two products is two accounts. */
  product: string
  marketplace: Marketplace
  externalId: string
}

/** One entitlement as the marketplace reports it (AWS contract dimensions, for instance). */
export interface Entitlement {
  dimension: string
  value?: number | string | boolean | null
  expiresAt?: string | null
}

export interface Account extends AccountKey {
  id: string
  plan: string | null
  status: AccountStatus
  /** The customer's cloud account (AWS account id) where the marketplace gives one. */
  customerAccountId: string | null
  /** Free-form facts from the marketplace: Heroku app, region, options; AWS free trial. */
  metadata: Record<string, unknown>
  entitlements: Entitlement[]
  createdAt: Date
  updatedAt: Date
  /** Bumped on every change; lets readers detect concurrent writers. */
  version: number
}

/** What a command may set on a new account besides its key. */
export interface AccountDraft extends AccountKey {
  plan?: string | null
  customerAccountId?: string | null
  metadata?: Record<string, unknown>
}
