import { setTimeout as delay } from 'node:timers/promises'
import { equalJitterBackoff } from '../../core/index.js'
import { isDatabaseUnavailable } from '../storage/unavailable.js'

/** Waits `ms` or until `signal` aborts, whichever is first; never rejects. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

export const abortableSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal }).then(() => {}, () => {})

/** A worker's failed rounds: 1 s, 2 s, 4 s … capped at 30 s, half fixed, half random. */
export const roundBackoff = { baseMs: 1000, capMs: 30_000 }

/**
 * The delay after each failure of a streak: capped exponential with equal jitter, from the
 * base again once a round succeeds. So a worker whose database went away waits longer and
 * longer (not a query every poll) and comes back within `capMs` of the database.
 */
export function createFailureBackoff (random: () => number, policy: { baseMs: number, capMs: number } = roundBackoff) {
  let streak = 0
  return {
    get streak () { return streak },
    /** One more failure: the delay before the next try. */
    failed (): number { return equalJitterBackoff(++streak, policy, random()) },
    /** A success: returns how long the streak that it ended was (0: there was none). */
    succeeded (): number { const ended = streak; streak = 0; return ended }
  }
}

interface WarnLog { warn(obj: object, msg: string): void, error(obj: object, msg: string): void, info(obj: object, msg: string): void }

/**
 * Logs a streak of failed rounds without flooding: the first failure, then the 10th, 100th
 * … (a database away for an hour writes a handful of lines, not thousands), and one line
 * when the worker is back. The database being away is a warning without a stack; anything
 * else is an error with its stack, since it is a bug to look at.
 */
export function logFailure (log: WarnLog, err: unknown, streak: number, retryInMs: number, message: string): void {
  if (streak !== 1 && !Number.isInteger(Math.log10(streak))) return
  if (isDatabaseUnavailable(err)) log.warn({ reason: (err as Error).message, failures: streak, retryInMs }, `${message}: the database is unavailable`)
  else log.error({ err, failures: streak, retryInMs }, message)
}

export function logRecovered (log: WarnLog, ended: number, message: string): void {
  if (ended > 0) log.info({ failures: ended }, message)
}

/**
 * Runs `write` (recording a result), retrying with backoff while the database is away, for
 * at most `forMs` or until `signal` aborts; then the last error is thrown. Recording late
 * is safe: the write is fenced by the lease, so a worker that lost its item changes nothing.
 * It saves doing the item again when its lease runs out (a webhook sent twice, a Platform
 * API call repeated) for an outage shorter than the lease.
 */
export async function retryWhileUnavailable<T> (write: () => Promise<T>, options: {
  forMs: number, signal?: AbortSignal, sleep?: Sleep, random: () => number, now?: () => number
}): Promise<T> {
  const sleep = options.sleep ?? abortableSleep
  const now = options.now ?? Date.now
  const until = now() + options.forMs
  const backoff = createFailureBackoff(options.random, { baseMs: 250, capMs: 5000 })
  for (;;) {
    try {
      return await write()
    } catch (err) {
      const wait = backoff.failed()
      if (!isDatabaseUnavailable(err) || options.signal?.aborted === true || now() + wait > until) throw err
      await sleep(wait, options.signal)
    }
  }
}
