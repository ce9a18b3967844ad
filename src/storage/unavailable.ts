/**
 * Whether an error means "the database is not there right now" (an outage to wait out,
 * answered 503 and retried) rather than a bug or a bad statement (500).
 */

/** Socket-level errors: the server refused, reset or never answered the connection. */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'])

/**
 * SQLSTATEs: class 08 (connection exception), 57P01 admin shutdown, 57P02 crash shutdown,
 * 57P03 cannot connect now (starting up, in recovery), 57014 query canceled (our
 * statement_timeout), 53300 too many connections, 3D000 the database does not exist (yet:
 * a compose stack whose database is created after the gateway starts).
 */
const sqlStates = new Set(['57P01', '57P02', '57P03', '57014', '53300', '3D000'])

/**
 * pg's own messages for a lost or never-made connection; pg gives them no code. By message,
 * because that is all there is (pg's messages are English, unlike the server's).
 */
const pgMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'timeout expired',
  'is not queryable',
  'Client has encountered a connection error',
  'Connection ended unexpectedly'
]

function isUnavailableItself (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    if (socketCodes.has(code) || sqlStates.has(code)) return true
    if (/^08[0-9A-Z]{3}$/.test(code)) return true
  }
  const message = (err as { message?: unknown }).message
  return typeof message === 'string' && pgMessages.some((m) => message.includes(m))
}

/**
 * True when `err`, or an error it wraps (`cause`, an AggregateError's `errors`: Node's
 * happy-eyeballs connect to `localhost` fails with one per address), says the database is
 * unreachable, gone, overloaded or too slow. Bounded depth: a cycle of causes cannot loop.
 */
export function isDatabaseUnavailable (err: unknown, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false
  if (isUnavailableItself(err)) return true
  const { cause, errors } = err as { cause?: unknown, errors?: unknown }
  if (cause !== undefined && isDatabaseUnavailable(cause, depth + 1)) return true
  return Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))
}

/** The one message requests get while the database is away (it names nothing internal). */
export const unavailableMessage = 'the database is unavailable; try again shortly'
/** Seconds a client is asked to wait before trying again (Retry-After). */
export const unavailableRetryAfterS = 5
