import { setTimeout as sleep } from 'node:timers/promises'
import { hostname } from 'node:os'
import { createAwsFromServices } from './aws.wiring.js'
import type { Services } from './services.js'

/** The reconciliation period; the lease lasts as long, so N instances still run it once per period. */
export const reconcileEveryMs = 15 * 60_000

/**
 * The AWS background work: the SQS poller (when AWS_SQS_QUEUE_URL is set) and the periodic
 * entitlement reconciliation. Returns the stop function.
 */
export function startAwsWorkers (services: Services): () => Promise<void> {
  const aws = createAwsFromServices(services)
  const log = services.logger.child({ component: 'aws-workers' })
  const abortable = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal })
  const poller = aws.poller()
  poller?.start(abortable)

  const owner = `${hostname()}:${process.pid}:${services.random.uuid()}`
  const reconciler = aws.reconciler(owner, reconcileEveryMs)
  const stopping = new AbortController()
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      await reconciler.runOnce().catch((err: unknown) => log.warn({ err }, 'aws reconciliation failed'))
      await abortable(reconcileEveryMs, stopping.signal).catch(() => {})
    }
  })()

  return async () => {
    stopping.abort()
    await Promise.all([poller?.stop(), loop])
    aws.close()
  }
}
