import { Type } from '@sinclair/typebox'
import type { Account, StoredEvent } from '../../core/index.js'
import { provisioningDeadline } from './provisioning-deadline.js'

/** The public JSON of an account: snake_case, as in the webhook bodies. */
export const AccountJson = Type.Object({
  id: Type.String({ format: 'uuid' }),
  product: Type.String(),
  marketplace: Type.String(),
  external_id: Type.String(),
  customer_account_id: Type.Union([Type.String(), Type.Null()]),
  plan: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  entitlements: Type.Array(Type.Unknown()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  /** Heroku asynchronous provisioning only: when Heroku gives up, and whether that is within the hour. */
  provisioning_deadline_at: Type.Optional(Type.String({ format: 'date-time' })),
  provisioning_overdue: Type.Optional(Type.Boolean())
}, { $id: 'Account' })

export const EventJson = Type.Object({
  id: Type.String({ format: 'uuid' }),
  account_id: Type.Union([Type.String(), Type.Null()]),
  type: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
  occurred_at: Type.String({ format: 'date-time' })
}, { $id: 'AccountEvent' })

/** `now` adds the Heroku provisioning deadline to accounts still pending asynchronously. */
export function accountToJson (a: Account, now?: Date) {
  const deadline = now === undefined ? undefined : provisioningDeadline(a, now)
  return {
    id: a.id,
    product: a.product,
    marketplace: a.marketplace,
    external_id: a.externalId,
    customer_account_id: a.customerAccountId,
    plan: a.plan,
    status: a.status,
    metadata: a.metadata,
    entitlements: a.entitlements,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
    ...(deadline ? { provisioning_deadline_at: deadline.deadlineAt.toISOString(), provisioning_overdue: deadline.overdue } : {})
  }
}

export function eventToJson (e: StoredEvent) {
  return { id: e.id, account_id: e.accountId, type: e.type, data: e.data, occurred_at: e.occurredAt.toISOString() }
}
