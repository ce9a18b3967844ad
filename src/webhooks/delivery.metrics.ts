import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface DeliveryMetrics {
  /** One per attempt: succeeded, retrying, dead, endpoint_disabled, lease_lost. */
  outcomes: Counter<'outcome'>
  latency: Histogram<'outcome'>
}

/**
 * Webhook metrics on the services' registry. Registered once per registry, whoever asks
 * first (the app for the gauge, a worker for counters), so the app and a worker in one
 * process share them.
 */
export function deliveryMetrics (registry: Registry, oldestDueAgeSeconds?: () => Promise<number>): DeliveryMetrics {
  const existing = registry.getSingleMetric('marketgate_webhook_deliveries_total') as Counter<'outcome'> | undefined
  const outcomes = existing ?? new Counter({
    name: 'marketgate_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  const latency = (registry.getSingleMetric('marketgate_webhook_attempt_duration_seconds') as Histogram<'outcome'> | undefined) ?? new Histogram({
    name: 'marketgate_webhook_attempt_duration_seconds',
    help: 'Duration of webhook attempts, request to response',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [registry]
  })
  if (oldestDueAgeSeconds !== undefined && registry.getSingleMetric('marketgate_webhook_oldest_due_seconds') === undefined) {
    // Read at scrape time: the age of the most overdue delivery says whether workers keep up.
    new Gauge({
      name: 'marketgate_webhook_oldest_due_seconds',
      help: 'Age of the oldest due webhook delivery (0 when none is due)',
      registers: [registry],
      async collect () { this.set(await oldestDueAgeSeconds()) }
    })
  }
  return { outcomes, latency }
}
