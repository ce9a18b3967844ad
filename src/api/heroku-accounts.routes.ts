import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Gauge } from 'prom-client'
import { notFound } from '../../core/index.js'
import type { HerokuVendorService } from '../../providers/heroku/heroku.vendor.js'
import type { Services } from '../services.js'
import { AccountJson, accountToJson } from './account.json.js'
import { overdueAfterMs } from './provisioning-deadline.js'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) })
const ConfigBody = Type.Object({
  config: Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 32_768 }))
}, { additionalProperties: false })
const ErrorBody = Type.Object({ error: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false })

/**
 * The vendor's side of Heroku add-ons: POST /v1/accounts/:id/provisioning (finish or fail an
 * asynchronous provision) and POST /v1/accounts/:id/rotate-credentials. Also the gauge of
 * asynchronous provisions near Heroku's 12-hour limit.
 */
export const herokuAccountsRoutes: FastifyPluginAsyncTypebox<{ services: Services, vendor: HerokuVendorService }> = async (app, { services, vendor }) => {
  const id = (raw: string) => {
    if (!uuidPattern.test(raw)) throw notFound('account')
    return raw.toLowerCase()
  }
  registerOverdueGauge(services)

  app.post('/accounts/:id/provisioning', {
    schema: {
      tags: ['heroku'],
      summary: 'Finish an asynchronous Heroku provision with its config vars, or report that it failed',
      description: '`{ "config": { "PREFIX_NAME": "value" } }` answers 202 and pushes the config to Heroku, then marks the add-on provisioned; `{ "error": "…" }` fails the account.',
      params: IdParams,
      body: Type.Union([ConfigBody, ErrorBody]),
      response: { 200: Type.Object({ account: AccountJson }), 202: Type.Object({ account: AccountJson }) }
    }
  }, async (request, reply) => {
    const body = request.body
    if ('config' in body) {
      const account = await vendor.completeProvisioning(id(request.params.id), body.config)
      return reply.status(202).send({ account: accountToJson(account, services.clock.now()) })
    }
    const account = await vendor.failProvisioning(id(request.params.id), body.error)
    return { account: accountToJson(account, services.clock.now()) }
  })

  app.post('/accounts/:id/rotate-credentials', {
    schema: {
      tags: ['heroku'],
      summary: 'Issue a new API key, push it to the Heroku apps; the old one works for the grace period',
      params: IdParams,
      response: { 200: Type.Object({ account: AccountJson, previous_key_valid_until: Type.String({ format: 'date-time' }) }) }
    }
  }, async (request) => {
    const { account, previousValidUntil } = await vendor.rotateCredentials(id(request.params.id))
    return { account: accountToJson(account, services.clock.now()), previous_key_valid_until: previousValidUntil.toISOString() }
  })
}

function registerOverdueGauge (services: Services): void {
  const name = 'marketgate_heroku_provisioning_overdue'
  if (services.metrics.getSingleMetric(name) !== undefined) return
  new Gauge({
    name,
    help: 'Heroku add-ons still pending asynchronous provisioning 11 hours or more after the provision (Heroku drops them at 12 h)',
    registers: [services.metrics],
    async collect () {
      const since = new Date(services.clock.now().getTime() - overdueAfterMs)
      const row = await services.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('marketplace', '=', 'heroku').where('status', '=', 'pending').where('created_at', '<=', since)
        .where((eb) => eb(eb.ref('metadata', '->>').key('provisioning'), '=', 'async')).executeTakeFirst()
      this.set(Number(row?.n ?? 0))
    }
  })
}
