import type { ErrorCode } from '../../core/index.js'

/** The one map from error codes to HTTP statuses; the Record type forces every code in. */
export const errorStatus: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  GONE: 410,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UPSTREAM_UNAVAILABLE: 503,
  UNAVAILABLE: 503,
  NOT_CONFIGURED: 404,
  INTERNAL: 500
}
