import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering'
import { MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service'
import { SQSClient } from '@aws-sdk/client-sqs'

export interface AwsClients {
  metering: MarketplaceMeteringClient
  entitlement: MarketplaceEntitlementServiceClient
  sqs: SQSClient
  destroy(): void
}

/** What tests (or an operator embedding the gateway) may set on every client. */
export interface AwsClientOverrides {
  endpoint?: string
  maxAttempts?: number
  credentials?: { accessKeyId: string, secretAccessKey: string }
}

/**
 * The three SDK clients, built from the region only: credentials come from the SDK's default
 * chain and endpoints from its own conventions (`AWS_ENDPOINT_URL`,
 * `AWS_ENDPOINT_URL_MARKETPLACE_METERING`, …), which is how tests point them at a local fake.
 */
export function createAwsClients (region: string, overrides: AwsClientOverrides = {}): AwsClients {
  const common = { region, ...overrides }
  const metering = new MarketplaceMeteringClient(common)
  const entitlement = new MarketplaceEntitlementServiceClient(common)
  const sqs = new SQSClient(common)
  return {
    metering,
    entitlement,
    sqs,
    destroy () {
      metering.destroy()
      entitlement.destroy()
      sqs.destroy()
    }
  }
}

/** The parts of an SDK error worth logging: never the request, which may carry a token. */
export function describeAwsError (err: unknown): { name: string, fault: string | undefined, requestId: string | undefined, status: number | undefined } {
  const e = err as { name?: string, $fault?: string, $metadata?: { requestId?: string, httpStatusCode?: number } }
  return { name: e?.name ?? 'Error', fault: e?.$fault, requestId: e?.$metadata?.requestId, status: e?.$metadata?.httpStatusCode }
}
