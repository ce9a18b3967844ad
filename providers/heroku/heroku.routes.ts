import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { requireHerokuBasicAuth } from './heroku.auth.js'
import { AsyncProvisionReply, Message, PlanChangeBody, PlanChangeReply, ProvisionBody, ProvisionReply, ResourceParams } from './heroku.schemas.js'
import type { HerokuService } from './heroku.service.js'
import type { HerokuSettings } from './heroku.settings.js'

const tags = ['heroku']
const security = [{ herokuBasic: [] }]
const errors = { 400: Message, 401: Message, 404: Message, 410: Message, 413: Message, 415: Message, 422: Message, 503: Message }

/**
 * The Partner API: provision, plan change, deprovision under `/resources` of the plugin's
 * prefix. Basic auth is an onRequest hook, so it runs before the body is parsed.
 */
export async function herokuResourceRoutes (scope: FastifyInstance, opts: { service: HerokuService, settings: HerokuSettings }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>()
  const { service, settings } = opts
  const onRequest = requireHerokuBasicAuth(settings.addonId, settings.password)

  app.post('/resources', {
    onRequest,
    schema: { tags, security, summary: 'Heroku provisions an add-on resource (202 when asynchronous)', body: ProvisionBody, response: { 200: ProvisionReply, 202: AsyncProvisionReply, ...errors } }
  }, async (request, reply) => {
    const answer = await service.provision(request.body)
    return reply.status(answer.status).send(answer.body)
  })

  app.put('/resources/:id', {
    onRequest,
    schema: { tags, security, summary: 'Heroku changes the plan of a resource', params: ResourceParams, body: PlanChangeBody, response: { 200: PlanChangeReply, ...errors } }
  }, async (request) => service.changePlan(request.params.id, request.body))

  app.delete('/resources/:id', {
    onRequest,
    schema: { tags, security, summary: 'Heroku deprovisions a resource', params: ResourceParams, response: { 204: { type: 'null' }, ...errors } }
  }, async (request, reply) => {
    await service.deprovision(request.params.id)
    return reply.status(204).send()
  })
}
