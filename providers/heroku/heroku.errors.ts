import type { FastifyInstance } from 'fastify'
import { isMarketgateError, MarketgateError } from '../../core/index.js'

/** How `src` turns anything thrown into a status and a message safe to show. */
export type ErrorMapper = (err: unknown) => { status: number, message: string }

/**
 * Heroku's "cannot serve this request" answer: a 422 with a message the user sees
 * (an unknown plan or region). Core has no 422, so the provider marks it.
 */
export function unprocessable (message: string): MarketgateError {
  return new MarketgateError('VALIDATION_FAILED', message, { details: { heroku: 'unprocessable' } })
}

function statusOf (err: unknown, map: ErrorMapper): { status: number, message: string } {
  if (isMarketgateError(err) && err.details?.heroku === 'unprocessable') return { status: 422, message: err.message }
  return map(err)
}

/** Errors of the Partner API routes: Heroku wants `{ "message": … }`. */
export function installJsonErrors (scope: FastifyInstance, map: ErrorMapper): void {
  scope.setErrorHandler((err, request, reply) => {
    const { status, message } = statusOf(err, map)
    if (status >= 500) request.log.error({ err }, 'heroku request failed')
    else request.log.info({ status }, message)
    return reply.status(status).type('application/json; charset=utf-8').send({ message })
  })
}

/** Errors of the browser sign-in routes: a short HTML page, never a stack or a secret. */
export function installHtmlErrors (scope: FastifyInstance, map: ErrorMapper): void {
  scope.setErrorHandler((err, request, reply) => {
    const { status, message } = statusOf(err, map)
    if (status >= 500) request.log.error({ err }, 'heroku sign-in failed')
    else request.log.info({ status }, message)
    return reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8')
      .send(errorPage(status === 403 ? 'Sign-in refused' : 'Sign-in failed', message))
  })
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
