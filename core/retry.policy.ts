/**
 * The webhook retry policy as pure functions: what to do after one delivery attempt, given
 * its outcome, the attempt number, the time and a random number. No I/O, no clock of its own.
 */

const second = 1000
const minute = 60 * second
const hour = 60 * minute
const day = 24 * hour

/**
 * Delays between attempts (Svix's hosted schedule): the first attempt is immediate, then
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. Eight attempts, the last about 27 h 35 min after
 * the first; a failure of the eighth makes the delivery dead.
 */
export const retrySchedule: readonly number[] = [5 * second, 5 * minute, 30 * minute, 2 * hour, 5 * hour, 10 * hour, 10 * hour]
export const maxAttempts = retrySchedule.length + 1
/** ±20 % around each scheduled delay, so a burst of failures does not retry in lockstep. */
export const jitterRatio = 0.2
/** An endpoint failing every attempt for this long is disabled (Svix: 5 days). */
export const disableEndpointAfter = 5 * day
/** Retry-After never shortens the schedule, and never stretches it past this (or twice the step). */
export const retryAfterCeiling = hour

export type AttemptResult =
  | { kind: 'response', status: number, retryAfter?: string | null }
  | { kind: 'timeout' }
  | { kind: 'error', message: string }

export type Decision =
  | { action: 'succeeded' }
  | { action: 'retry', at: Date }
  | { action: 'dead', reason: 'exhausted' }
  | { action: 'disable_endpoint', reason: 'gone' }

export interface DecideInput {
  result: AttemptResult
  /** 1 for the first attempt of this delivery. */
  attempt: number
  now: Date
  /** A number in [0, 1), from the injected randomness. */
  random: number
}

/** The decision after one attempt: 2xx succeeds, 410 disables the endpoint, the rest retries or dies. */
export function decide (input: DecideInput): Decision {
  const { result, attempt, now } = input
  if (result.kind === 'response' && result.status >= 200 && result.status < 300) return { action: 'succeeded' }
  if (result.kind === 'response' && result.status === 410) return { action: 'disable_endpoint', reason: 'gone' }
  const step = retrySchedule[attempt - 1]
  if (step === undefined) return { action: 'dead', reason: 'exhausted' }
  let delay = jittered(step, input.random)
  if (result.kind === 'response' && (result.status === 429 || result.status === 503)) {
    const asked = parseRetryAfter(result.retryAfter, now)
    if (asked !== undefined) delay = boundRetryAfter(asked, delay)
  }
  return { action: 'retry', at: new Date(now.getTime() + delay) }
}

/** `step` scaled by a factor in [0.8, 1.2). */
export function jittered (step: number, random: number): number {
  return Math.floor(step * (1 - jitterRatio + 2 * jitterRatio * random))
}

/**
 * A receiver's Retry-After may postpone the next attempt but not hasten it (a receiver
 * answering `Retry-After: 1` forever would otherwise burn the whole schedule in seconds),
 * and may not postpone it past max(2 × the scheduled delay, 1 h).
 */
export function boundRetryAfter (askedMs: number, scheduledMs: number): number {
  return Math.min(Math.max(askedMs, scheduledMs), Math.max(2 * scheduledMs, retryAfterCeiling))
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from `now`; undefined if unusable. */
export function parseRetryAfter (value: string | null | undefined, now: Date): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * second
  // An HTTP date has a weekday and a month name; Date.parse alone would read '-3' as a year.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now.getTime())
}

/** True when an endpoint failing since `failingSince` has failed long enough to be disabled. */
export function shouldDisableEndpoint (failingSince: Date | null, now: Date): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= disableEndpointAfter
}
