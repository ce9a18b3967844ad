import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { isMarketgateError, MarketgateError } from '../../core/index.js'

/** How `src` turns anything thrown into a status and a message safe to show. */
export type ErrorMapper = (err: unknown) => { status: number, message: string, retryAfterS?: number }

/**
 * Heroku's "cannot serve this request" answer: a 422 with a message the user sees
 * (an unknown plan or region). Core has no 422, so the provider marks it.
 */
export function unprocessable (message: string): MarketgateError {
  return new MarketgateError('VALIDATION_FAILED', message, { details: { heroku: 'unprocessable' } })
}

function statusOf (err: unknown, map: ErrorMapper): ReturnType<ErrorMapper> {
  if (isMarketgateError(err) && err.details?.heroku === 'unprocessable') return { status: 422, message: err.message }
  return map(err)
}

/** Errors of the Partner API routes: Heroku wants `{ "message": … }`. */
export function installJsonErrors (scope: FastifyInstance, map: ErrorMapper): void {
  scope.setErrorHandler((err, request, reply) => {
    const { status, message, retryAfterS } = statusOf(err, map)
    logFailure(request.log, err, status, message, 'heroku request failed')
    if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS))
    return reply.status(status).type('application/json; charset=utf-8').send({ message })
  })
}

/** Errors of the browser sign-in routes: a short HTML page, never a stack or a secret. */
export function installHtmlErrors (scope: FastifyInstance, map: ErrorMapper): void {
  scope.setErrorHandler((err, request, reply) => {
    const { status, message, retryAfterS } = statusOf(err, map)
    logFailure(request.log, err, status, message, 'heroku sign-in failed')
    if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS))
    return reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8')
      .send(errorPage(status === 403 ? 'Sign-in refused' : 'Sign-in failed', message))
  })
}

/** An outage to wait out (a 503 with Retry-After) is a warning without a stack; other 5xx are errors. */
function logFailure (log: FastifyBaseLogger, err: unknown, status: number, message: string, failed: string): void {
  if (status === 503) log.warn({ status, reason: (err as Error)?.message }, message)
  else if (status >= 500) log.error({ err }, failed)
  else log.info({ status }, message)
}

export function errorPage (title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>
<p>Open the add-on again from your Heroku dashboard.</p></body></html>
`
}

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
