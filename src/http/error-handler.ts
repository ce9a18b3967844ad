import type { FastifyError, FastifyInstance } from 'fastify'
import { isMarketgateError, type ErrorCode } from '../../core/index.js'
import { errorStatus } from './error-status.js'

export interface HttpError {
  status: number
  code: ErrorCode
  message: string
}

/**
 * Turns anything thrown into a status, a code and a message safe to show. Fastify's own
 * errors (validation, body parsing, size limits) get codes from our closed set; anything
 * unexpected becomes a 500 whose message reveals nothing.
 */
export function toHttpError (err: unknown): HttpError {
  if (isMarketgateError(err)) return { status: errorStatus[err.code], code: err.code, message: err.message }
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
    if (http.status >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: http.code, status: http.status }, http.message)
    return reply.status(http.status).send({ error: { code: http.code, message: http.message } })
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } })
  })
}
