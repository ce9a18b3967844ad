import { GetEntitlementsCommand, type Entitlement as AwsEntitlement, type GetEntitlementFilterName } from '@aws-sdk/client-marketplace-entitlement-service'
import type { Entitlement } from '../../core/index.js'
import type { AwsClients } from './aws.clients.js'

/** Who to ask about: the license where AWS gave one, else the legacy customer id, else the AWS account. */
export interface EntitlementSubject {
  licenseArn?: string | null
  customerIdentifier?: string | null
  customerAccountId?: string | null
}

/**
 * All of a customer's entitlements: GetEntitlements paged to the end. AWS may answer an empty
 * page that still carries a NextToken, so only an absent token stops the loop (capped at 200
 * pages of 25 so a misbehaving upstream cannot spin us forever).
 */
export async function fetchEntitlements (clients: Pick<AwsClients, 'entitlement'>, productCode: string, who: EntitlementSubject): Promise<Entitlement[]> {
  const filter: Partial<Record<GetEntitlementFilterName, string[]>> = who.licenseArn
    ? { LICENSE_ARN: [who.licenseArn] }
    : who.customerIdentifier
      ? { CUSTOMER_IDENTIFIER: [who.customerIdentifier] }
      : who.customerAccountId ? { CUSTOMER_AWS_ACCOUNT_ID: [who.customerAccountId] } : {}
  if (Object.keys(filter).length === 0) return []
  const out: Entitlement[] = []
  let nextToken: string | undefined
  for (let page = 0; page < 200; page++) {
    const res = await clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: productCode, Filter: filter, MaxResults: 25, NextToken: nextToken }))
    for (const e of res.Entitlements ?? []) out.push(toEntitlement(e))
    nextToken = res.NextToken
    if (!nextToken) break
  }
  return out
}

function toEntitlement (e: AwsEntitlement): Entitlement {
  const v = e.Value
  const value = v?.IntegerValue ?? v?.DoubleValue ?? v?.BooleanValue ?? v?.StringValue ?? null
  return { dimension: e.Dimension ?? '', value, expiresAt: e.ExpirationDate ? e.ExpirationDate.toISOString() : null }
}

/**
 * The plan an entitlement set stands for. With a dimension map (AWS_PLAN_DIMENSIONS), the first
 * mapped dimension, in the map's order, that is entitled (a true, non-zero or non-empty value,
 * not expired) names the plan: list your tiers from the highest down. Without a match, the
 * first entitled dimension by name names its own plan. Nothing entitled: null (plan unchanged).
 */
export function planFor (entitlements: Entitlement[], planDimensions: Record<string, string>, now: Date): string | null {
  const entitled = entitlements.filter((e) => isEntitled(e, now)).map((e) => e.dimension)
  for (const [dimension, plan] of Object.entries(planDimensions)) if (entitled.includes(dimension)) return plan
  return [...entitled].sort()[0] ?? null
}

function isEntitled (e: Entitlement, now: Date): boolean {
  if (e.expiresAt && new Date(e.expiresAt).getTime() <= now.getTime()) return false
  // AWS sets exactly one value; a dimension listed without one is entitled by being listed.
  return e.value !== false && e.value !== 0 && e.value !== ''
}
