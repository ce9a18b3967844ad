import tap from 'tap'
import { build, type Built } from '../../../helpers/build.js'
import { herokuEnv, herokuHeaders, resourceUuid, v3Body } from '../../../helpers/heroku.js'
import { fakeClientSecret, HerokuFake } from '../../../fakes/heroku-fake.js'
import { createJobWorkerFromServices } from '../../../../src/jobs/job.wiring.js'
import type { JobWorker } from '../../../../src/jobs/job.worker.js'

export { resourceUuid }
export const grantCode = 'grant-code-01234567-abcd'

let shared: Promise<HerokuFake> | undefined
/** One fake per test file (reset per test): starting it costs little, but ports are not free. */
async function fake (): Promise<HerokuFake> {
  if (shared === undefined) {
    shared = new HerokuFake().start()
    tap.teardown(async () => { await (await shared!).stop() })
  }
  const f = await shared
  f.reset()
  return f
}

/* eslint-disable @typescript-eslint/no-explicit-any -- test JSON is read loosely */
export interface Reply { statusCode: number, body: string, json(): any }
export interface AccountRow { id: string, status: string, plan: string | null, metadata: Record<string, any> }
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface PlatformHarness extends Built {
  heroku: HerokuFake
  worker: JobWorker
  provision(body?: Record<string, unknown>): Promise<Reply>
  account(): Promise<AccountRow>
  jobs(): Promise<Array<{ kind: string, status: string, attempts: number, run_at: Date, last_error: string | null, secret_encrypted: string | null, payload: Record<string, unknown> }>>
  eventTypes(): Promise<string[]>
}

/**
 * The real app with Heroku configured against the local fake of id.heroku.com and
 * api.heroku.com, and a job worker driven step by step (jitter pinned: fraction 0.5).
 */
export async function platform (t: Parameters<typeof build>[0], env: Record<string, string> = {}): Promise<PlatformHarness> {
  const heroku = await fake()
  const built = await build(t, {
    ...herokuEnv,
    HEROKU_OAUTH_CLIENT_SECRET: fakeClientSecret,
    HEROKU_ID_URL: heroku.url,
    HEROKU_API_URL: heroku.url,
    ...env
  })
  const { app, services } = built
  const worker = createJobWorkerFromServices(services, { workerId: 'w1' }, { fraction: () => 0.5 })
  t.teardown(() => { worker.detach() })
  heroku.grants.set(grantCode, resourceUuid)
  return {
    ...built,
    heroku,
    worker,
    provision: (body = v3Body()) => app.inject({ method: 'POST', url: '/heroku/resources', headers: herokuHeaders, payload: body }),
    async account () {
      const row = await services.db.selectFrom('accounts').selectAll().where('external_id', '=', resourceUuid).executeTakeFirstOrThrow()
      return row as unknown as AccountRow
    },
    jobs: () => services.db.selectFrom('jobs').select(['kind', 'status', 'attempts', 'run_at', 'last_error', 'secret_encrypted', 'payload'])
      .orderBy('created_at').orderBy('id').execute(),
    async eventTypes () {
      const rows = await services.db.selectFrom('account_events').select('type').orderBy('id').execute()
      return rows.map((r) => r.type)
    }
  }
}
