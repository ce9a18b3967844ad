import type { UsageRecord } from '@aws-sdk/client-marketplace-metering'

/** One claimed hourly aggregate, with what the record needs of its account. */
export interface ClaimedHour {
  accountId: string
  dimension: string
  hour: Date
  quantity: number
  attempts: number
  externalId: string
  customerAccountId: string | null
  customerIdentifier: string | null
  /** The account's LicenseArn (metadata), known even when its key is the CustomerIdentifier. */
  licenseArn: string | null
}

/**
 * The record AWS bills: always built from the frozen quantity and the start of the hour, so a
 * retry sends the identical record (AWS de-duplicates per customer, dimension and hour).
 * An account whose LicenseArn is known (in its metadata, or as its key) sends LicenseArn and
 * CustomerAWSAccountId and no request-level ProductCode, whatever its key: an account first
 * created by a legacy message keeps its CustomerIdentifier key after registration tells us
 * its LicenseArn, and AWS stops accepting CustomerIdentifier for Concurrent Agreements
 * products. Accounts with no LicenseArn send CustomerIdentifier with the ProductCode.
 */
export function toUsageRecord (h: ClaimedHour): { mode: 'license' | 'legacy', record: UsageRecord } {
  const base = { Timestamp: h.hour, Dimension: h.dimension, Quantity: h.quantity }
  const licenseArn = h.licenseArn ?? (h.externalId.startsWith('arn:') ? h.externalId : null)
  if (licenseArn !== null) {
    return { mode: 'license', record: { ...base, LicenseArn: licenseArn, ...(h.customerAccountId ? { CustomerAWSAccountId: h.customerAccountId } : {}) } }
  }
  return { mode: 'legacy', record: { ...base, CustomerIdentifier: h.customerIdentifier ?? h.externalId } }
}

/** The key AWS de-duplicates on, for matching results back to rows. */
export function recordKey (r: UsageRecord): string {
  const who = r.LicenseArn ?? r.CustomerIdentifier ?? r.CustomerAWSAccountId ?? ''
  return `${who}|${r.Dimension}|${new Date(r.Timestamp!).getTime()}`
}

export const maxRecordsPerCall = 25
/** BatchMeterUsage refuses bodies of 1 MB or more; keep a margin for the envelope. */
export const maxBodyBytes = 1_000_000 - 4096

/**
 * Cuts records into calls of at most 25 records and under 1 MB each, one mode per call
 * (a call carries at most one product and one kind of customer id).
 */
export function toBatches<T extends { mode: string, record: UsageRecord }> (items: T[]): T[][] {
  const batches: T[][] = []
  for (const mode of ['license', 'legacy']) {
    let current: T[] = []
    let size = 0
    for (const item of items.filter((i) => i.mode === mode)) {
      const bytes = Buffer.byteLength(JSON.stringify(item.record)) + 1
      if (current.length === maxRecordsPerCall || (current.length > 0 && size + bytes > maxBodyBytes)) {
        batches.push(current)
        current = []
        size = 0
      }
      current.push(item)
      size += bytes
    }
    if (current.length > 0) batches.push(current)
  }
  return batches
}
