import { build, type Built } from '../../helpers/build.js'
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from '../../../src/webhooks/delivery.worker.js'
import { startReceiver, type Receiver, type Respond } from './receiver.js'

export interface Harness extends Built {
  receiver: Receiver
  endpoint: { id: string, secret: string }
  worker: DeliveryWorker
  /** Another worker on the same services (for leases and races). */
  newWorker(options?: Partial<DeliveryWorkerOptions>): DeliveryWorker
  provision(externalId?: string): Promise<string>
  deliveries(): Promise<Array<{ id: string, status: string, attempts: number, next_attempt_at: Date, last_status_code: number | null, last_error: string | null }>>
}

/** Test webhook timeout: a hanging receiver costs 2 s, not 15 s, and a busy 2-core CI machine still answers in time (300 ms was seen to time out under load). */
export const testTimeoutMs = 2000

/**
 * The real app on a fresh database, a verifying receiver, one endpoint pointing at it
 * (created through the API) and a worker with jitter pinned to 0 (random 0.5), driven by runOnce.
 */
export async function harness (t: Parameters<typeof build>[0], respond?: Respond, events?: string[]): Promise<Harness> {
  const built = await build(t, { MARKETGATE_WEBHOOK_TIMEOUT_MS: String(testTimeoutMs) })
  const { app, auth, services, clock } = built
  const receiver = await startReceiver(t, clock, respond)
  const res = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: receiver.url, ...(events ? { events } : {}) } })
  if (res.statusCode !== 201) throw new Error(`create endpoint: ${res.statusCode} ${res.body}`)
  const endpoint = res.json() as { id: string, secret: string }
  receiver.secrets.push(endpoint.secret)
  const workers: DeliveryWorker[] = []
  const newWorker = (options: Partial<DeliveryWorkerOptions> = {}) => {
    const w = createDeliveryWorker({
      db: services.db, clock, random: services.random, secrets: services.secrets, logger: services.logger,
      metrics: services.metrics, engine: services.database.engine, databaseUrl: services.database.url, fraction: () => 0.5,
      ...(services.database.listen ? { listen: services.database.listen } : {})
    }, { timeoutMs: testTimeoutMs, workerId: `w${workers.length + 1}`, leaseMs: 60_000, ...options })
    workers.push(w)
    return w
  }
  t.teardown(async () => { for (const w of workers) await w.stop() })
  let n = 0
  return {
    ...built,
    receiver,
    endpoint,
    worker: newWorker(),
    newWorker,
    async provision (externalId = `res-${++n}`) {
      const r = await services.lifecycle.execute({ key: { product: 'default', marketplace: 'heroku', externalId } }, { type: 'provision', plan: 'basic' }, { createIfAbsent: true })
      return r.events[0]!.id
    },
    deliveries: () => services.db.selectFrom('webhook_deliveries')
      .select(['id', 'status', 'attempts', 'next_attempt_at', 'last_status_code', 'last_error']).orderBy('id').execute()
  }
}
