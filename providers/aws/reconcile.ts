import type { Account, AccountLookup, Clock, Entitlement, LeaseStore, Lifecycle } from '../../core/index.js'
import { describeAwsError } from './aws.clients.js'
import { planFor, type EntitlementSubject } from './entitlements.js'
import { subjectOf } from './notification.handler.js'

export interface ReconcileDeps {
  /** The product whose contract accounts are reconciled. */
  product: string
  lookup: AccountLookup
  lifecycle: Lifecycle
  leases: LeaseStore
  clock: Clock
  owner: string
  planDimensions: Record<string, string>
  fetchEntitlements: (who: EntitlementSubject) => Promise<Entitlement[]>
  log: { info: (o: object, m: string) => void, warn: (o: object, m: string) => void }
  /**
   * How long a run holds the lease (default 15 minutes, the reconciliation period). The lease
   * is not released after the run: it doubles as "reconciled recently", so with N instances
   * the job still runs once per period, not N times.
   */
  leaseMs?: number
}

export const reconcileLease = 'aws-reconcile'

/**
 * Repairs drift between AWS and the stored entitlements of contract accounts (a lost
 * entitlement-updated, a contract that ended quietly): GetEntitlements for each live contract
 * account, and the same updateEntitlements command a notification would send — so an account
 * already right changes nothing. One instance at a time, through a lease row.
 */
export function createReconciler (deps: ReconcileDeps) {
  async function repair (account: Account): Promise<boolean> {
    try {
      const entitlements = await deps.fetchEntitlements(subjectOf(account, {}))
      const plan = planFor(entitlements, deps.planDimensions, deps.clock.now())
      const r = await deps.lifecycle.execute({ accountId: account.id }, { type: 'updateEntitlements', entitlements, plan })
      return r.outcome === 'changed'
    } catch (err) {
      deps.log.warn({ accountId: account.id, awsError: describeAwsError(err).name }, 'aws reconciliation of one account failed')
      return false
    }
  }

  return {
    async runOnce (): Promise<{ ran: boolean, checked: number, repaired: number }> {
      if (!await deps.leases.tryAcquire(reconcileLease, deps.owner, deps.leaseMs ?? 900_000)) return { ran: false, checked: 0, repaired: 0 }
      let checked = 0
      let repaired = 0
      let after: string | undefined
      do {
        const page = await deps.lookup.findAccountsByFact({ product: deps.product, marketplace: 'aws' }, 'contract', 'true', { limit: 100, after })
        for (const account of page.data) {
          if (account.status === 'cancelled') continue
          checked++
          if (await repair(account)) repaired++
        }
        after = page.nextCursor === null ? undefined : page.data[page.data.length - 1]!.id
      } while (after !== undefined)
      if (repaired > 0) deps.log.info({ checked, repaired }, 'aws reconciliation repaired drift')
      return { ran: true, checked, repaired }
    }
  }
}
