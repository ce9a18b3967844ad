import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isMarketgateError } from '../../core/index.js'
import { credentialAttempts } from './heroku.auth.js'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ResourceParams, SsoForm, SsoQuery } from './heroku.schemas.js'
import type { HerokuService, SignIn } from './heroku.service.js'
import type { HerokuSettings } from './heroku.settings.js'

const tags = ['heroku']
export const navDataCookie = 'heroku-nav-data'

/**
 * Single sign-on from the Heroku dashboard: the form POST at the manifest's sso_url and the
 * legacy GET on the resource. Needs @fastify/formbody and @fastify/cookie in this scope.
 */
export async function herokuSsoRoutes (scope: FastifyInstance, opts: { service: HerokuService, settings: HerokuSettings }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>()
  const { service, settings } = opts
  const secure = settings.publicUrl.startsWith('https://')

  async function finish (request: FastifyRequest, reply: FastifyReply, claim: SignIn, navData: string | undefined, status: 302 | 303) {
    // A refused sign-in (bad or replayed token, stale timestamp) counts against the address's
    // budget of failed credential checks; once it is spent, sign-ins from there get 429.
    const attempts = credentialAttempts(request)
    await attempts?.check(request, reply, 'heroku-sso')
    let signedIn
    try {
      signedIn = await service.signIn(claim)
    } catch (err) {
      if (isMarketgateError(err, 'FORBIDDEN')) await attempts?.fail(request, 'heroku-sso')
      throw err
    }
    const { location, cookies } = signedIn
    for (const c of cookies) void reply.setCookie(c.name, c.value, c.options)
    // The Heroku navigation reads this cookie back: it must be the posted value, byte for byte,
    // so no encoding (the schema admits only cookie-safe characters).
    if (navData !== undefined) {
      void reply.setCookie(navDataCookie, navData, { path: '/', httpOnly: true, sameSite: 'lax', secure, encode: (v: string) => v })
    }
    return reply.header('cache-control', 'no-store').redirect(location, status)
  }

  app.post('/sso/login', {
    schema: { tags, summary: 'Heroku single sign-on (form POST at the manifest sso_url)', consumes: ['application/x-www-form-urlencoded'], body: SsoForm }
  }, async (request, reply) => {
    const f = request.body
    const tokens = [f.token, f.resource_token].filter((t): t is string => t !== undefined)
    const claim: SignIn = {
      resourceId: f.resource_id ?? f.id ?? '',
      timestamp: f.timestamp,
      tokens,
      userScopedToken: f.user_scoped_resource_token,
      userId: f.user_id,
      email: f.email,
      app: f.app ?? f.context_app
    }
    return finish(request, reply, claim, f['nav-data'], 303)
  })

  app.get('/resources/:id', {
    schema: { tags, summary: 'Heroku single sign-on (legacy GET)', params: ResourceParams, querystring: SsoQuery }
  }, async (request, reply) => {
    const q = request.query
    const claim: SignIn = {
      resourceId: request.params.id, timestamp: q.timestamp, tokens: [q.token], userId: q.user_id, email: q.email, app: q.app
    }
    return finish(request, reply, claim, q['nav-data'], 302)
  })
}
