import { setTimeout as delay } from 'node:timers/promises'
import { equalJitterBackoff } from '../../core/index.js'
import { isDatabaseUnavailable } from './unavailable.js'

/**
 * The database could not be reached within DATABASE_CONNECT_TIMEOUT_S, or refused us for a
 * reason waiting cannot fix (a wrong password). The message is one line naming the host and
 * database of DATABASE_URL, never its password; the CLI turns it into exit 78.
 */
export class DatabaseUnreachableError extends Error {
  constructor (message: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.name = 'DatabaseUnreachableError'
  }
}

/** `postgres://user@host:port/db` of a connection string: no password, no query. */
export function describeDatabaseUrl (url: string): string {
  try {
    const u = new URL(url)
    const user = u.username === '' ? '' : `${decodeURIComponent(u.username)}@`
    return `${u.protocol}//${user}${u.host}${u.pathname}`
  } catch {
    return 'DATABASE_URL (unparsable)'
  }
}

export interface ConnectRetryDeps {
  /** Waits `ms`; tests pass one that advances a fake clock instead of waiting. */
  sleep?: (ms: number) => Promise<void>
  /** A number in [0, 1) for the jitter. */
  random?: () => number
  /** Milliseconds now (the deadline's clock). */
  now?: () => number
  log?: { warn(obj: object, msg: string): void }
}

/** Retry delays: 250 ms, 500 ms, 1 s … capped at 5 s, each half fixed, half random. */
export const connectBackoff = { baseMs: 250, capMs: 5000 }

/**
 * Runs `attempt` (open a connection and ask something trivial) until it succeeds, retrying
 * with capped exponential backoff and equal jitter while the error says the database is away
 * (refused, reset, starting up, not created yet), for at most `timeoutS` seconds. One warn
 * line per failed attempt, with the reason and the next delay, never the password. Gives up
 * with a DatabaseUnreachableError: at once for an error that waiting cannot fix, else when
 * the next attempt would start after the deadline.
 */
export async function connectWithRetry (url: string, timeoutS: number, attempt: () => Promise<void>, deps: ConnectRetryDeps = {}): Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => delay(ms))
  const random = deps.random ?? Math.random
  const now = deps.now ?? Date.now
  const where = describeDatabaseUrl(url)
  const secret = passwordOf(url)
  // Belt and braces: no driver message should quote the password, but none may.
  const reasonOf = (err: unknown) => secret === '' ? describeError(err) : describeError(err).split(secret).join('***')
  const deadline = now() + timeoutS * 1000
  for (let n = 1; ; n++) {
    try {
      await attempt()
      return
    } catch (err) {
      const reason = reasonOf(err)
      if (!isDatabaseUnavailable(err)) {
        throw new DatabaseUnreachableError(`cannot use the database at ${where} (DATABASE_URL): ${reason}`, { cause: err })
      }
      const wait = equalJitterBackoff(n, connectBackoff, random())
      if (now() + wait > deadline) {
        throw new DatabaseUnreachableError(`the database at ${where} (DATABASE_URL) was unreachable for ${timeoutS} s (DATABASE_CONNECT_TIMEOUT_S), ${n} attempts; last: ${reason}`, { cause: err })
      }
      deps.log?.warn({ database: where, attempt: n, retryInMs: wait, reason }, 'database unreachable; retrying')
      await sleep(wait)
    }
  }
}

function passwordOf (url: string): string {
  try {
    return decodeURIComponent(new URL(url).password)
  } catch {
    return ''
  }
}

/** One line: the message (or the code, or each address's reason of an AggregateError). */
function describeError (err: unknown): string {
  const e = err as { message?: string, code?: string, errors?: unknown[] }
  const parts = Array.isArray(e.errors) && e.errors.length > 0 ? e.errors.map((x) => describeError(x)) : []
  const own = typeof e.message === 'string' && e.message !== '' ? e.message : (e.code ?? String(err))
  return (parts.length > 0 ? [...new Set(parts)].join('; ') : own).replace(/\s+/g, ' ')
}
