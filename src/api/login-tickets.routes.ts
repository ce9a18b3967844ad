import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { notFound } from '../../core/index.js'
import type { LoginService } from '../login/login.handoff.js'
import type { Services } from '../services.js'
import { AccountJson, accountToJson } from './account.json.js'

/** POST /v1/login-tickets/redeem: the vendor's login page trades a ticket for who signed in. */
export const loginTicketsRoutes: FastifyPluginAsyncTypebox<{ services: Services, login: LoginService }> = async (app, { services, login }) => {
  app.post('/login-tickets/redeem', {
    schema: {
      tags: ['login'],
      summary: 'Redeem a one-time login ticket (works once, within 60 s)',
      body: Type.Object({ ticket: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          account: AccountJson,
          user: Type.Object({
            email: Type.Union([Type.String(), Type.Null()]),
            id: Type.Union([Type.String(), Type.Null()]),
            app: Type.Union([Type.String(), Type.Null()]),
            source: Type.String()
          }),
          issued_at: Type.String({ format: 'date-time' })
        })
      }
    }
  }, async (request) => {
    const redeemed = await login.redeem(request.body.ticket)
    const account = await services.accounts.getAccount(redeemed.accountId)
    if (account === undefined) throw notFound('account')
    const u = redeemed.user
    return {
      account: accountToJson(account),
      user: { email: (u.email as string | null) ?? null, id: (u.id as string | null) ?? null, app: (u.app as string | null) ?? null, source: String(u.source ?? 'unknown') },
      issued_at: redeemed.issuedAt.toISOString()
    }
  })
}
