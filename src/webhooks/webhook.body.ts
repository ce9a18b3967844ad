import type { Account } from '../../core/index.js'
import { accountToJson } from '../api/account.json.js'

/** One event, ready to become a webhook body. */
export interface WebhookSource {
  id: string
  type: string
  data: Record<string, unknown>
  occurredAt: Date
  /** The account as the event left it; undefined for gateway events (webhook.test, endpoint.disabled). */
  account: Account | undefined
}

/**
 * The body of CONTRACT §5: `{ type, timestamp, data: { event_id, account, …event data } }`.
 * Built from stored, immutable facts only, so every attempt of an event sends the same bytes.
 * `event_id` and `account` come first and cannot be shadowed by the event's own data.
 */
export function webhookBody (source: WebhookSource): string {
  const head: Record<string, unknown> = { event_id: source.id }
  if (source.account !== undefined) head.account = accountToJson(source.account)
  return JSON.stringify({
    type: source.type,
    timestamp: source.occurredAt.toISOString(),
    data: { ...head, ...source.data, ...head }
  })
}
