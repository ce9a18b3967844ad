/** Hour arithmetic for metering: AWS de-duplicates per customer, dimension and hour. */
export const hourMs = 3600_000

export function startOfHour (at: Date): Date {
  return new Date(Math.floor(at.getTime() / hourMs) * hourMs)
}

export function addHours (at: Date, n: number): Date {
  return new Date(at.getTime() + n * hourMs)
}

/**
 * How long after its hour a record may still be sent. AWS's current model accepts up to
 * 24 h (older references say 6 h); we keep a margin and carry anything older into the
 * current hour instead of losing it (aws-marketplace-saas.md §3.2).
 */
export const sendableForMs = 6 * hourMs
/** A record still unsent this long after its hour is expired: AWS would refuse it. */
export const expireAfterMs = 23 * hourMs
/**
 * After unsubscribe-pending AWS accepts records for about an hour. We accept usage for the
 * first 50 minutes and flush at once after that, leaving ten minutes for retries.
 */
export const finalWindowMs = 50 * 60_000
