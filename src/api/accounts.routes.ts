import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { accountStatuses, marketplaces, notFound, type Marketplace, type AccountStatus } from '../../core/index.js'
import type { Services } from '../services.js'
import { decodeCursor } from '../storage/cursor.js'
import { AccountJson, EventJson, accountToJson, eventToJson } from './account.json.js'
import { PageQuery, pageOf } from './pagination.js'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) })

/** GET /v1/accounts, /v1/accounts/:id, /v1/accounts/:id/events. */
export const accountsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { accounts } = services

  async function load (id: string) {
    const account = uuidPattern.test(id) ? await accounts.getAccount(id.toLowerCase()) : undefined
    if (account === undefined) throw notFound('account')
    return account
  }

  app.get('/accounts', {
    schema: {
      tags: ['accounts'],
      summary: 'List accounts, oldest first, filtered by product, marketplace, status or external id',
      querystring: Type.Object({
        ...PageQuery,
        product: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
        marketplace: Type.Optional(Type.Union(marketplaces.map((m) => Type.Literal(m)))),
        status: Type.Optional(Type.Union(accountStatuses.map((s) => Type.Literal(s)))),
        external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 500 }))
      }, { additionalProperties: false }),
      response: { 200: pageOf(AccountJson) }
    }
  }, async (request) => {
    const q = request.query
    const page = await accounts.listAccounts(
      { product: q.product, marketplace: q.marketplace as Marketplace | undefined, status: q.status as AccountStatus | undefined, externalId: q.external_id },
      { limit: q.limit, after: decodeCursor(q.cursor) })
    const now = services.clock.now()
    return { data: page.data.map((a) => accountToJson(a, now)), next_cursor: page.nextCursor }
  })

  app.get('/accounts/:id', {
    schema: { tags: ['accounts'], summary: 'One account', params: IdParams, response: { 200: AccountJson } }
  }, async (request) => accountToJson(await load(request.params.id), services.clock.now()))

  app.get('/accounts/:id/events', {
    schema: {
      tags: ['accounts'],
      summary: "An account's lifecycle events, oldest first",
      params: IdParams,
      querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
      response: { 200: pageOf(EventJson) }
    }
  }, async (request) => {
    const account = await load(request.params.id)
    const page = await accounts.listEvents(account.id, { limit: request.query.limit, after: decodeCursor(request.query.cursor) })
    return { data: page.data.map(eventToJson), next_cursor: page.nextCursor }
  })
}
