// The gateway as the benchmark runs it: the real services and app, listening on a free port,
// plus three bench-only routes (never part of the product) to seed AWS subscribers, start
// delivery workers between phases, and run the metering job to the end.
import { loadConfig } from '../src/config.js'
import { buildApp } from '../src/app.js'
import { createLogger } from '../src/logger.js'
import { createServices } from '../src/services.js'
import { createMeteringFromServices } from '../src/metering/metering.wiring.js'
import { createWebhookWorker } from '../src/webhooks/webhook.worker-factory.js'
import type { DeliveryWorker } from '../src/webhooks/delivery.worker.js'

const config = loadConfig(process.env)
const services = await createServices({ config, logger: createLogger(config.logLevel) })
const app = await buildApp(services)
const workers: DeliveryWorker[] = []

app.post('/bench/seed-aws', async (request) => {
  const { n } = request.body as { n: number }
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const r = await services.lifecycle.execute({ key: { product: config.productId, marketplace: 'aws', externalId: `arn:aws:license-manager::123456789012:license:l-bench${i}` } },
      { type: 'activate', customerAccountId: '210987654321' }, { createIfAbsent: true })
    ids.push(r.account!.id)
  }
  return { ids }
})

app.post('/bench/workers', async (request) => {
  const { n } = request.body as { n: number }
  while (workers.length > n) await workers.pop()!.stop()
  while (workers.length < n) {
    const w = createWebhookWorker(services) // the gateway's own defaults
    w.start()
    workers.push(w)
  }
  return { workers: workers.length }
})

app.post('/bench/meter', async () => {
  const job = createMeteringFromServices(services, { owner: 'bench' })
  const total = { calls: 0, sent: 0, rejected: 0, expired: 0, retrying: 0, runs: 0 }
  for (;;) {
    const r = await job.runOnce()
    if (r === undefined || r.calls === 0) break
    total.runs++
    for (const k of ['calls', 'sent', 'rejected', 'expired', 'retrying'] as const) total[k] += r[k]
  }
  job.close()
  return total
})

await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
const stop = async () => { for (const w of workers) await w.stop(); await app.close(); await services.close(); process.exit(0) }
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })
