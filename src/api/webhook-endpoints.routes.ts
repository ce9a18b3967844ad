import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MarketgateError, notFound, subscribableEventTypes } from '../../core/index.js'
import type { Services } from '../services.js'
import { decodeCursor } from '../storage/cursor.js'
import { deliveryMetrics } from '../webhooks/delivery.metrics.js'
import { createDeliveryStore, deliveryStatuses, type Delivery, type DeliveryStatus } from '../webhooks/delivery.store.js'
import { createEndpointStore, type WebhookEndpoint } from '../webhooks/endpoint.store.js'
import { blockedHostReason } from '../webhooks/endpoint.url-guard.js'
import { PageQuery, pageOf } from './pagination.js'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) })
const Url = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2000 })
const Events = Type.Union([Type.Array(Type.Union(subscribableEventTypes.map((e) => Type.Literal(e))), { minItems: 1, uniqueItems: true }), Type.Null()])
const Products = Type.Union([Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), { minItems: 1, uniqueItems: true }), Type.Null()], {
  description: 'only the events of accounts of these products (null: every product); the gateway\'s own events always'
})
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })

const EndpointJson = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Union([Type.Array(Type.String()), Type.Null()]),
  products: Type.Union([Type.Array(Type.String()), Type.Null()]),
  enabled: Type.Boolean(),
  disabled_at: Nullable(DateTime),
  disabled_reason: Nullable(Type.String()),
  failing_since: Nullable(DateTime),
  previous_secret_expires_at: Nullable(DateTime),
  created_at: DateTime,
  updated_at: DateTime
})
const EndpointWithSecret = Type.Composite([EndpointJson, Type.Object({ secret: Type.String() })])

const AttemptJson = Type.Object({
  attempt: Type.Integer(),
  attempted_at: DateTime,
  duration_ms: Type.Integer(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  response_excerpt: Nullable(Type.String()),
  error: Nullable(Type.String()),
  outcome: Type.String()
})
const DeliveryJson = Type.Object({
  id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.String(),
  attempt_count: Type.Integer(),
  next_attempt_at: Nullable(DateTime),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Nullable(Type.String()),
  created_at: DateTime,
  succeeded_at: Nullable(DateTime),
  dead_at: Nullable(DateTime),
  attempts: Type.Array(AttemptJson)
})

/** Refuses a URL whose host is a link-local or cloud-metadata address or name (the sender checks resolved addresses again). */
function checkUrl (url: string | undefined): void {
  if (url === undefined) return
  if (!URL.canParse(url)) throw new MarketgateError('VALIDATION_FAILED', 'body/url is not a valid URL', { details: { field: 'url' } })
  const reason = blockedHostReason(url)
  if (reason !== undefined) {
    throw new MarketgateError('VALIDATION_FAILED', `body/url is refused: ${reason}; webhooks may go to public or private networks, never link-local or cloud metadata addresses`, { details: { field: 'url' } })
  }
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString())

function endpointToJson (e: WebhookEndpoint) {
  return {
    id: e.id, url: e.url, description: e.description, events: e.events, products: e.products, enabled: e.enabled,
    disabled_at: iso(e.disabledAt), disabled_reason: e.disabledReason, failing_since: iso(e.failingSince),
    previous_secret_expires_at: iso(e.previousSecretExpiresAt), created_at: iso(e.createdAt)!, updated_at: iso(e.updatedAt)!
  }
}

function deliveryToJson (d: Delivery) {
  return {
    id: d.id, event_id: d.eventId, event_type: d.eventType, status: d.status, attempt_count: d.attemptCount,
    next_attempt_at: iso(d.nextAttemptAt), last_status_code: d.lastStatusCode, last_error: d.lastError,
    created_at: iso(d.createdAt)!, succeeded_at: iso(d.succeededAt), dead_at: iso(d.deadAt),
    attempts: d.attempts.map((a) => ({
      attempt: a.attempt, attempted_at: iso(a.attemptedAt)!, duration_ms: a.durationMs, status_code: a.statusCode,
      response_excerpt: a.responseExcerpt, error: a.error, outcome: a.outcome
    }))
  }
}

/**
 * /v1/webhook-endpoints: manage endpoints, rotate secrets, send a test, list deliveries with
 * their attempts, replay one event, recover failures since a time. Secrets are returned on
 * create and rotate only; GET never shows them.
 */
export const webhookEndpointsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const endpoints = createEndpointStore(services)
  const deliveries = createDeliveryStore({ ...services, retentionDays: services.config.retention.days })
  deliveryMetrics(services.metrics, () => deliveries.oldestDueAgeSeconds())
  const tags = ['webhooks']

  async function load (id: string): Promise<WebhookEndpoint> {
    const ep = uuidPattern.test(id) ? await endpoints.get(id.toLowerCase()) : undefined
    if (ep === undefined) throw notFound('webhook endpoint')
    return ep
  }

  app.post('/webhook-endpoints', {
    schema: {
      tags,
      summary: 'Create an endpoint; the answer carries its whsec_ signing secret',
      body: Type.Object({ url: Url, events: Type.Optional(Events), products: Type.Optional(Products), description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))) }, { additionalProperties: false }),
      response: { 201: EndpointWithSecret }
    }
  }, async (request, reply) => {
    checkUrl(request.body.url)
    const { endpoint, secret } = await endpoints.create(request.body)
    return reply.status(201).send({ ...endpointToJson(endpoint), secret })
  })

  app.get('/webhook-endpoints', {
    schema: { tags, summary: 'List endpoints, oldest first', querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }), response: { 200: pageOf(EndpointJson) } }
  }, async (request) => {
    const page = await endpoints.list({ limit: request.query.limit, after: decodeCursor(request.query.cursor) })
    return { data: page.data.map(endpointToJson), next_cursor: page.nextCursor }
  })

  app.get('/webhook-endpoints/:id', {
    schema: { tags, summary: 'One endpoint (without its secret)', params: IdParams, response: { 200: EndpointJson } }
  }, async (request) => endpointToJson(await load(request.params.id)))

  app.patch('/webhook-endpoints/:id', {
    schema: {
      tags,
      summary: 'Change url, events, products, description or enabled; enabling forgets the failure streak',
      params: IdParams,
      body: Type.Object({ url: Type.Optional(Url), events: Type.Optional(Events), products: Type.Optional(Products), description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))), enabled: Type.Optional(Type.Boolean()) },
        { additionalProperties: false, minProperties: 1 }),
      response: { 200: EndpointJson }
    }
  }, async (request) => {
    checkUrl(request.body.url)
    const ep = await load(request.params.id)
    return endpointToJson((await endpoints.update(ep.id, request.body))!)
  })

  app.delete('/webhook-endpoints/:id', {
    schema: { tags, summary: 'Delete an endpoint and its deliveries', params: IdParams, response: { 204: Type.Null() } }
  }, async (request, reply) => {
    const ep = await load(request.params.id)
    await endpoints.remove(ep.id)
    return reply.status(204).send(null)
  })

  app.post('/webhook-endpoints/:id/rotate-secret', {
    schema: {
      tags,
      summary: 'New secret; the old one keeps signing beside it (second signature) for 24 h',
      params: IdParams,
      response: { 200: EndpointWithSecret }
    }
  }, async (request) => {
    const ep = await load(request.params.id)
    const rotated = (await endpoints.rotate(ep.id))!
    return { ...endpointToJson(rotated.endpoint), secret: rotated.secret }
  })

  app.post('/webhook-endpoints/:id/test', {
    schema: { tags, summary: 'Queue a webhook.test event to this endpoint only', params: IdParams, response: { 202: Type.Object({ event_id: Type.String(), delivery_id: Type.String() }) } }
  }, async (request, reply) => {
    const ep = await load(request.params.id)
    const r = await deliveries.enqueueTest(ep.id)
    return reply.status(202).send({ event_id: r.eventId, delivery_id: r.deliveryId })
  })

  app.get('/webhook-endpoints/:id/deliveries', {
    schema: {
      tags,
      summary: "The endpoint's deliveries, oldest first, each with every attempt",
      params: IdParams,
      querystring: Type.Object({ ...PageQuery, status: Type.Optional(Type.Union(deliveryStatuses.map((s) => Type.Literal(s)))) }, { additionalProperties: false }),
      response: { 200: pageOf(DeliveryJson) }
    }
  }, async (request) => {
    const ep = await load(request.params.id)
    const page = await deliveries.list(ep.id, { status: request.query.status as DeliveryStatus | undefined },
      { limit: request.query.limit, after: decodeCursor(request.query.cursor) })
    return { data: page.data.map(deliveryToJson), next_cursor: page.nextCursor }
  })

  app.post('/webhook-endpoints/:id/replay', {
    schema: {
      tags,
      summary: 'Send one event to this endpoint again (same webhook-id, new delivery)',
      params: IdParams,
      body: Type.Object({ event_id: Type.String({ maxLength: 100 }) }, { additionalProperties: false }),
      response: { 202: Type.Object({ delivery_id: Type.String() }) }
    }
  }, async (request, reply) => {
    const ep = await load(request.params.id)
    if (!uuidPattern.test(request.body.event_id)) throw notFound('event')
    const deliveryId = await deliveries.replay(ep.id, request.body.event_id.toLowerCase())
    return reply.status(202).send({ delivery_id: deliveryId })
  })

  app.post('/webhook-endpoints/:id/recover', {
    schema: {
      tags,
      summary: 'Make the endpoint whole since a time: failed and dead deliveries retried now, and every event it missed (while disabled) delivered',
      params: IdParams,
      body: Type.Object({ since: DateTime }, { additionalProperties: false }),
      response: {
        202: Type.Object({
          recovered: Type.Integer({ description: 'deliveries made due now: revived + created' }),
          revived: Type.Integer({ description: 'failed or dead deliveries put back to due' }),
          created: Type.Integer({ description: 'deliveries created for events of the period that had none for this endpoint' }),
          in_flight: Type.Integer({ description: 'failed or dead deliveries left alone because an attempt is in flight; recover again later' })
        })
      }
    }
  }, async (request, reply) => {
    const ep = await load(request.params.id)
    const r = await deliveries.recover(ep.id, new Date(request.body.since))
    return reply.status(202).send({ recovered: r.recovered, revived: r.revived, created: r.created, in_flight: r.inFlight })
  })
}
