import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify'
import { isMarketgateError, type ErrorCode } from '../../core/index.js'
import { isDatabaseUnavailable, unavailableMessage, unavailableRetryAfterS } from '../storage/unavailable.js'
import { errorStatus } from './error-status.js'

export interface HttpError {
  status: number
  code: ErrorCode
  message: string
  /** Seconds for a Retry-After header (an outage to wait out). */
  retryAfterS?: number
}

/**
 * Turns anything thrown into a status, a code and a message safe to show. Fastify's own
 * errors (validation, body parsing, size limits) get codes from our closed set; the database
 * being away (refused, cut mid-query, timed out) is a 503 UNAVAILABLE with Retry-After;
 * anything unexpected becomes a 500 whose message reveals nothing.
 */
export function toHttpError (err: unknown): HttpError {
  if (isMarketgateError(err, 'UNAVAILABLE')) return { status: 503, code: 'UNAVAILABLE', message: err.message, retryAfterS: unavailableRetryAfterS }
  if (isMarketgateError(err)) return { status: errorStatus[err.code], code: err.code, message: err.message }
  if (isDatabaseUnavailable(err)) return { status: 503, code: 'UNAVAILABLE', message: unavailableMessage, retryAfterS: unavailableRetryAfterS }
  const e = err as Partial<FastifyError> & { validation?: unknown }
  if (e.validation) return { status: 400, code: 'VALIDATION_FAILED', message: e.message ?? 'invalid request' }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'request body is too large' }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported content type' }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'VALIDATION_FAILED', message: 'the JSON body is empty' }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'VALIDATION_FAILED', message: 'the body is not valid JSON' }
    default:
      break
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500
  if (status >= 400 && status < 500) {
    if (err instanceof SyntaxError) return { status: 400, code: 'VALIDATION_FAILED', message: 'the body is not valid JSON' }
    const code: ErrorCode = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND'
      : status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 429 ? 'RATE_LIMITED' : 'VALIDATION_FAILED'
    return { status, code, message: e.message ?? 'bad request' }
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' }
}

/** The JSON error shape of the /v1 API and operations routes: `{ error: { code, message } }`. */
export function installErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const http = toHttpError(err)
    logHttpError(request.log, err, http)
    if (http.retryAfterS !== undefined) void reply.header('retry-after', String(http.retryAfterS))
    return reply.status(http.status).send({ error: { code: http.code, message: http.message } })
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } })
  })
}

/**
 * One log line per failed request: an outage at warn without a stack (hundreds of requests
 * fail the same way while the database is away), a bug at error with its stack, a client's
 * mistake at info.
 */
export function logHttpError (log: FastifyBaseLogger, err: unknown, http: HttpError): void {
  if (http.code === 'UNAVAILABLE') {
    const e = err as { message?: string, code?: string }
    log.warn({ code: http.code, status: http.status, reason: e.message, dbCode: e.code }, 'request failed: the database is unavailable')
  } else if (http.status >= 500) log.error({ err }, 'request failed')
  else log.info({ code: http.code, status: http.status }, http.message)
}
