/** The lifecycle events of CONTRACT §3, plus the gateway's own operational events. */
export const EventType = {
  provisioned: 'account.provisioned',
  planChanged: 'account.plan_changed',
  cancelled: 'account.cancelled',
  login: 'account.login',
  pending: 'account.pending',
  suspended: 'account.suspended',
  reinstated: 'account.reinstated',
  failed: 'account.failed',
  entitlementsUpdated: 'account.entitlements_updated',
  credentialsRotated: 'account.credentials_rotated',
  webhookTest: 'webhook.test',
  endpointDisabled: 'endpoint.disabled'
} as const
export type EventType = (typeof EventType)[keyof typeof EventType]
export const eventTypes = Object.values(EventType)
/** The event types a vendor may subscribe an endpoint to. */
export const subscribableEventTypes: readonly EventType[] = eventTypes

/** An event the machine decided happened; the store gives it an id and a time. */
export interface LifecycleEvent {
  type: EventType
  data: Record<string, unknown>
}

export interface StoredEvent extends LifecycleEvent {
  id: string
  accountId: string | null
  occurredAt: Date
}
