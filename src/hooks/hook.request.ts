import { createHash } from 'node:crypto'
import type { HookQuestion } from '../../core/index.js'
import { accountToJson } from '../api/account.json.js'
import { signatureHeaders } from '../webhooks/webhook.signer.js'

/**
 * The id of a question: derived from what makes it the same question (contract §7), so every
 * ask of it — a retried job, a marketplace's retry after a 503, another instance — carries the
 * same `webhook-id`, and a vendor can make its decision idempotent on it.
 */
export function questionIdOf (q: HookQuestion): string {
  const identity = JSON.stringify([q.product, q.marketplace, q.externalId, q.type, q.plan ?? null, q.quantity ?? null])
  return `hook_${createHash('sha256').update(identity).digest('base64url').slice(0, 32)}`
}

/** The body of a hook request: snake_case, optional fields only when they mean something. */
export function questionBody (q: HookQuestion, at: Date): string {
  const data: Record<string, unknown> = { product: q.product, marketplace: q.marketplace, external_id: q.externalId, plan: q.plan }
  if (q.previousPlan !== undefined) data.previous_plan = q.previousPlan
  if (q.quantity !== undefined) data.quantity = q.quantity
  if (q.previousQuantity !== undefined) data.previous_quantity = q.previousQuantity
  if (q.region !== undefined && q.region !== null) data.region = q.region
  if (q.options !== undefined) data.options = q.options
  if (q.account !== undefined) data.account = accountToJson(q.account)
  if (q.customer !== undefined) data.customer = q.customer
  return JSON.stringify({ type: q.type, timestamp: at.toISOString(), data })
}

/** The POST of one ask: Standard Webhooks headers under the hook's own secret, as deliveries are signed. */
export function signedQuestion (q: HookQuestion, id: string, at: Date, secret: string): { headers: Record<string, string>, body: string } {
  const body = questionBody(q, at)
  return { body, headers: { 'content-type': 'application/json', ...signatureHeaders(id, at, body, [secret]) } }
}
