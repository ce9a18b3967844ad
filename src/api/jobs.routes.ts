import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { jobStatuses, listJobs, type JobStatus } from '../jobs/job.store.js'
import type { Services } from '../services.js'
import { decodeCursor } from '../storage/cursor.js'
import { PageQuery, pageOf } from './pagination.js'

const JobJson = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.String(),
  account_id: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  run_at: Type.String({ format: 'date-time' }),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
})

/** GET /v1/jobs: background jobs (Heroku Platform API calls), e.g. `?status=dead` for what gave up. */
export const jobsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get('/jobs', {
    schema: {
      tags: ['operations'],
      summary: 'Background jobs, oldest first; the sealed part of a job is never shown',
      querystring: Type.Object({
        ...PageQuery,
        status: Type.Optional(Type.Union(jobStatuses.map((s) => Type.Literal(s)))),
        kind: Type.Optional(Type.String({ maxLength: 100 })),
        account_id: Type.Optional(Type.String({ format: 'uuid' }))
      }, { additionalProperties: false }),
      response: { 200: pageOf(JobJson) }
    }
  }, async (request) => {
    const q = request.query
    const page = await listJobs(services.db, { status: q.status as JobStatus | undefined, kind: q.kind, accountId: q.account_id },
      { limit: q.limit, after: decodeCursor(q.cursor) })
    return {
      data: page.data.map((j) => ({
        id: j.id, kind: j.kind, account_id: j.accountId, payload: j.payload, status: j.status, attempts: j.attempts,
        max_attempts: j.maxAttempts, run_at: j.runAt.toISOString(), last_error: j.lastError,
        created_at: j.createdAt.toISOString(), updated_at: j.updatedAt.toISOString()
      })),
      next_cursor: page.nextCursor
    }
  })
}
