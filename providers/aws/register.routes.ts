import type { FastifyInstance, FastifyReply } from 'fastify'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import { isMarketgateError, type Account, type Lifecycle, type LoginHandoff } from '../../core/index.js'
import { page, registrationPages, type RegistrationPage } from './register.page.js'
import { RegistrationError } from './register.service.js'

export interface RegisterRouteOptions {
  register: (token: string, offerType: string | undefined) => Promise<Account>
  lifecycle: Lifecycle
  /** Absent until the gateway's login handoff is wired: the buyer then sees a "received" page. */
  loginHandoff?: LoginHandoff
}

function sendPage (reply: FastifyReply, which: RegistrationPage) {
  const p = registrationPages[which]
  return reply.status(p.status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(p.title, p.message))
}

/**
 * POST /aws/register, the listing's fulfillment URL: a cross-site browser form carrying
 * `x-amzn-marketplace-token`. Answers with a 303 to the login handoff, or an HTML page; the
 * token stays in this request (never in a URL, cookie or log line).
 */
export async function registerRoutes (app: FastifyInstance, opts: RegisterRouteOptions): Promise<void> {
  await app.register(formbody, { bodyLimit: 16_384 })
  await app.register(cookie)

  // Browsers get pages, not JSON: every failure in this scope is rendered as one.
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof RegistrationError) {
      const status = registrationPages[err.page].status
      const log = status >= 500 ? request.log.warn.bind(request.log) : request.log.info.bind(request.log)
      log({ ...err.log, page: err.page }, 'aws registration stopped')
      return sendPage(reply, err.page)
    }
    if (isMarketgateError(err, 'GONE')) return sendPage(reply, 'ended')
    if (isMarketgateError(err, 'INVALID_TRANSITION')) return sendPage(reply, 'failed')
    const status = (err as { statusCode?: number }).statusCode
    if (status !== undefined && status >= 400 && status < 500) return sendPage(reply, 'missingToken')
    request.log.error({ err }, 'aws registration failed')
    return sendPage(reply, 'unavailable')
  })

  app.get('/register', { schema: { tags: ['aws'], summary: 'A bookmarked fulfillment URL: explains where to start' } },
    async (_request, reply) => sendPage(reply, 'missingToken'))

  app.post('/register', {
    schema: { tags: ['aws'], summary: 'Fulfillment URL: AWS Marketplace registration (browser form with x-amzn-marketplace-token)', consumes: ['application/x-www-form-urlencoded'] }
  }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const token = body['x-amzn-marketplace-token']
    if (typeof token !== 'string' || token === '' || token.length > 4096) return sendPage(reply, 'missingToken')
    const offerType = typeof body['x-amzn-marketplace-offer-type'] === 'string' ? body['x-amzn-marketplace-offer-type'] : undefined

    const account = await opts.register(token, offerType)
    request.log.info({ accountId: account.id, status: account.status }, 'aws registration')
    if (opts.loginHandoff === undefined) return sendPage(reply, 'received')
    const user = { userId: account.customerAccountId, source: 'aws' }
    const login = await opts.lifecycle.execute({ accountId: account.id }, { type: 'login', user })
    const handoff = await opts.loginHandoff.begin(login.account ?? account, user)
    for (const c of handoff.cookies) void reply.setCookie(c.name, c.value, c.options)
    return reply.status(303).header('cache-control', 'no-store').redirect(handoff.location, 303)
  })
}
