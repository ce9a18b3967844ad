import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MarketgateError, notFound } from '../../core/index.js'
import type { Services } from '../services.js'
import { createCredentialStore } from '../storage/credential.store.js'
import { AccountJson, accountToJson } from './account.json.js'

/**
 * POST /v1/api-keys/verify: the vendor's services ask which account an API key (the Heroku
 * `<PREFIX>_API_KEY`) belongs to. The lookup is by keyed digest, so no key is compared
 * character by character; unknown keys and keys past their grace period are both 404.
 */
export const apiKeysRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const credentials = createCredentialStore({ db: services.db, secrets: services.secrets, clock: services.clock, random: services.random })

  app.post('/api-keys/verify', {
    schema: {
      tags: ['accounts'],
      summary: 'Which account an API key belongs to (404 when unknown or expired)',
      body: Type.Object({ api_key: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          account: AccountJson,
          key: Type.Object({
            current: Type.Boolean(),
            expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
          })
        })
      }
    }
  }, async (request) => {
    const found = await credentials.verifyApiKey(request.body.api_key)
    if (found === undefined) throw new MarketgateError('NOT_FOUND', 'unknown or expired API key')
    const account = await services.accounts.getAccount(found.accountId)
    if (account === undefined) throw notFound('account')
    return {
      account: accountToJson(account, services.clock.now()),
      key: { current: found.expiresAt === null, expires_at: found.expiresAt?.toISOString() ?? null }
    }
  })
}
