import type { Account } from '../../core/index.js'

/** Heroku removes an add-on left `provisioning` for 12 hours, unbilled. */
export const herokuProvisioningLimitMs = 12 * 3600_000
/** Flag it an hour before, while the vendor can still finish it. */
export const overdueAfterMs = 11 * 3600_000

/** For a Heroku account still pending asynchronous provisioning: its deadline, and whether it is near. */
export function provisioningDeadline (account: Account, now: Date): { deadlineAt: Date, overdue: boolean } | undefined {
  if (account.marketplace !== 'heroku' || account.status !== 'pending' || account.metadata.provisioning !== 'async') return undefined
  const created = account.createdAt.getTime()
  return { deadlineAt: new Date(created + herokuProvisioningLimitMs), overdue: now.getTime() - created >= overdueAfterMs }
}
