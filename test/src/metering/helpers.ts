import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering'
import { createMeteringFromServices } from '../../../src/metering/metering.wiring.js'
import { buildAws } from '../../providers/aws/helpers.js'

export const licenseArn = (n: number | string) => `arn:aws:license-manager::123456789012:license:l-${n}`

/** The real app with AWS on, the metering job on the fake (one SDK attempt: retries are ours). */
export async function buildMetering (t: Parameters<typeof buildAws>[0], env: Record<string, string> = {}) {
  const built = await buildAws(t, env)
  built.fake.meteringNow = () => built.clock.now()
  const client = () => new MarketplaceMeteringClient({
    region: 'us-east-1', endpoint: built.fake.url, maxAttempts: 1, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }
  })
  const job = createMeteringFromServices(built.services, { client: client(), owner: 'instance-a' })
  const secondJob = createMeteringFromServices(built.services, { client: client(), owner: 'instance-b' })

  /** A subscribed account: Concurrent Agreements (LicenseArn) unless a legacy id is given. */
  async function subscriber (id: string | number, legacy = false) {
    const key = { product: 'default', marketplace: 'aws' as const, externalId: legacy ? `cust-${id}` : licenseArn(id) }
    const r = await built.services.lifecycle.execute({ key }, { type: 'activate', metadata: legacy ? { customerIdentifier: `cust-${id}` } : {}, customerAccountId: legacy ? null : '210987654321' }, { createIfAbsent: true })
    return r.account!
  }

  async function report (records: unknown) {
    return built.app.inject({ method: 'POST', url: '/v1/usage', headers: built.auth, payload: records as object })
  }

  async function hours (query = '') {
    return (await built.app.inject({ method: 'GET', url: `/v1/usage?limit=500${query}`, headers: built.auth })).json().data as Array<Record<string, unknown>>
  }

  const meterCalls = () => built.fake.calls('AWSMPMeteringService.BatchMeterUsage')
  return { ...built, job, secondJob, subscriber, report, hours, meterCalls }
}
