import type { FastifyInstance, FastifyRequest } from 'fastify'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import type { AccountReader, Clock, CredentialStore, JobQueue, Lifecycle, LoginHandoff } from '../../core/index.js'
import { installHtmlErrors, installJsonErrors, type ErrorMapper } from './heroku.errors.js'
import type { HerokuHook } from './heroku.hook.js'
import { herokuResourceRoutes } from './heroku.routes.js'
import { createHerokuService } from './heroku.service.js'
import type { HerokuSettings } from './heroku.settings.js'
import { herokuSsoRoutes } from './heroku-sso.routes.js'

export interface HerokuPluginOptions {
  settings: HerokuSettings
  lifecycle: Lifecycle
  credentials: CredentialStore
  login: LoginHandoff
  clock: Clock
  /** src's map from anything thrown to a status and a safe message. */
  toHttpError: ErrorMapper
  /** Queue for the grant exchange and Platform API calls (absent: grants are not exchanged). */
  jobs?: JobQueue
  accounts?: Pick<AccountReader, 'findAccount'>
  /** The vendor's hook (contract §7), when the product has one. */
  hook?: HerokuHook
}

/**
 * The Heroku add-on provider, an encapsulated plugin registered under `/heroku`: its
 * parsers, validator, error shapes and cookies stay inside. Heroku sends
 * `Accept: application/vnd.heroku-addons+json; version=3`; Fastify does no Accept
 * negotiation, so that never becomes a 406.
 */
export async function herokuPlugin (app: FastifyInstance, opts: HerokuPluginOptions): Promise<void> {
  const service = createHerokuService({
    settings: opts.settings, lifecycle: opts.lifecycle, credentials: opts.credentials, login: opts.login, clock: opts.clock,
    jobs: opts.jobs, accounts: opts.accounts, hook: opts.hook
  })
  // Strict types (the app's ajv coerces; Heroku's `plan: 123` must be a 400, not "123").
  app.setValidatorCompiler(TypeBoxValidatorCompiler)

  await app.register(async (api) => {
    installJsonErrors(api, opts.toHttpError)
    installJsonParsers(api)
    await api.register(herokuResourceRoutes, { service, settings: opts.settings })
  })

  if (opts.settings.ssoSalt !== undefined) {
    await app.register(async (sso) => {
      installHtmlErrors(sso, opts.toHttpError)
      await sso.register(formbody)
      await sso.register(cookie)
      await sso.register(herokuSsoRoutes, { service, settings: opts.settings })
    })
  }

  app.setNotFoundHandler((request, reply) => reply.status(404).send({ message: `no route ${request.method} ${request.url.split('?')[0]}` }))
}

/**
 * JSON under both media types Heroku uses, and nothing else (415). An empty body is allowed on DELETE only: a
 * deprovision may carry `Content-Type: application/json` and `Content-Length: 0`.
 */
function installJsonParsers (api: FastifyInstance): void {
  const parseJson = api.getDefaultJsonParser('error', 'error')
  const parser = (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    if (request.method === 'DELETE' && body.length === 0) return done(null, undefined)
    return parseJson(request, body as string, done)
  }
  api.removeContentTypeParser(['application/json', 'text/plain'])
  api.addContentTypeParser(['application/json', 'application/vnd.heroku-addons+json'], { parseAs: 'string' }, parser)
}
