/**
 * Typed errors with a closed set of codes. Core knows no HTTP: `src/http/error-status.ts`
 * maps every code to a status, and the compiler forces that map to be complete.
 */
export const errorCodes = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'GONE',
  'CONFLICT',
  'INVALID_TRANSITION',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  /** The database is unreachable, gone or too slow: an outage to wait out (503, Retry-After). */
  'UNAVAILABLE',
  'NOT_CONFIGURED',
  'INTERNAL'
] as const
export type ErrorCode = (typeof errorCodes)[number]

export class MarketgateError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, options: { cause?: unknown, details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause })
    this.name = 'MarketgateError'
    this.code = code
    this.details = options.details
  }
}

export function isMarketgateError (err: unknown, code?: ErrorCode): err is MarketgateError {
  return err instanceof MarketgateError && (code === undefined || err.code === code)
}

export const notFound = (what: string) => new MarketgateError('NOT_FOUND', `${what} not found`)
export const validationFailed = (message: string, details?: Record<string, unknown>) =>
  new MarketgateError('VALIDATION_FAILED', message, { details })
