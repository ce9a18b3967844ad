import type { Entitlement } from './account.js'

/** Who signed in, as the marketplace told us. */
export interface LoginUser {
  email?: string | null
  userId?: string | null
  app?: string | null
  source: string
}

interface Facts {
  /** Marketplace facts to merge into the account's metadata. */
  metadata?: Record<string, unknown>
  customerAccountId?: string | null
}

/**
 * The commands a provider may send to an account. `pending` and `activate` are the pair
 * for marketplaces that confirm a subscription after the customer appears (AWS
 * registration before subscribe-success, Heroku asynchronous provisioning).
 */
export type Command =
  | ({ type: 'pending', plan?: string | null } & Facts)
  | ({ type: 'provision', plan: string | null } & Facts)
  | ({ type: 'activate' } & Facts)
  | ({ type: 'changePlan', plan: string } & Facts)
  | ({ type: 'cancel', reason?: string } & Facts)
  | { type: 'login', user: LoginUser }
  | ({ type: 'suspend', reason?: string } & Facts)
  | ({ type: 'reinstate' } & Facts)
  | ({ type: 'fail', reason: string } & Facts)
  | ({ type: 'updateEntitlements', entitlements: Entitlement[], plan?: string | null } & Facts)
  | { type: 'rotateCredentials' }
  | ({ type: 'updateMetadata' } & Facts)

export type CommandType = Command['type']
export const commandTypes: readonly CommandType[] = [
  'pending', 'provision', 'activate', 'changePlan', 'cancel', 'login', 'suspend', 'reinstate',
  'fail', 'updateEntitlements', 'rotateCredentials', 'updateMetadata'
]
