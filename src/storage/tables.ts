// Table types, one interface per table, and the one Database interface Kysely is typed with.
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T> = ColumnType<T, string, string>

export interface AccountTable {
  id: string
  product: string
  marketplace: string
  external_id: string
  customer_account_id: string | null
  plan: string | null
  status: string
  metadata: Json<Record<string, unknown>>
  entitlements: Json<unknown[]>
  created_at: Timestamp
  updated_at: Timestamp
  version: ColumnType<number, number | undefined, number>
}

export interface AccountEventTable {
  id: string
  account_id: string | null
  type: string
  data: Json<Record<string, unknown>>
  occurred_at: Timestamp
  /** The account row as it was when the event happened (to_jsonb of accounts.*); null for gateway events. */
  account_snapshot: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
}

export interface WebhookEndpointTable {
  id: string
  url: string
  description: string | null
  events: string[] | null
  /** null: the events of every product (and the gateway's own events always). */
  products: ColumnType<string[] | null, string[] | null | undefined, string[] | null>
  enabled: ColumnType<boolean, boolean | undefined, boolean>
  secret_encrypted: string
  created_at: Timestamp
  updated_at: Timestamp
  previous_secret_encrypted: ColumnType<string | null, string | null | undefined, string | null>
  previous_secret_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  failing_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  disabled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>
}

export interface WebhookDeliveryTable {
  id: string
  event_id: string
  endpoint_id: string
  status: ColumnType<string, string | undefined, string>
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp
  lease_owner: string | null
  lease_expires_at: Timestamp | null
  created_at: Timestamp
  updated_at: Timestamp
  last_status_code: ColumnType<number | null, number | null | undefined, number | null>
  last_error: ColumnType<string | null, string | null | undefined, string | null>
  last_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  succeeded_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  dead_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface WebhookDeliveryAttemptTable {
  id: string
  delivery_id: string
  attempt: number
  worker: string
  attempted_at: Timestamp
  duration_ms: number
  status_code: number | null
  response_excerpt: string | null
  error: string | null
  outcome: string
}

export interface InboundMessageTable {
  marketplace: string
  message_id: string
  payload: Json<unknown> | null
  received_at: ColumnType<Date, Date | string | undefined, never>
}

export interface AccountCredentialTable {
  id: string
  account_id: string
  kind: string
  secret_encrypted: string
  secret_digest: string
  created_at: Timestamp
  expires_at: Timestamp | null
}

export interface LoginTicketTable {
  id: string
  ticket_digest: string
  account_id: string
  login_user: Json<Record<string, unknown>>
  created_at: Timestamp
  expires_at: Timestamp
  redeemed_at: Timestamp | null
}

export interface ParkedMessageTable {
  id: string
  marketplace: string
  source: string
  message_id: string
  state: string
  match_key: string | null
  reason: string
  attempts: ColumnType<number, number | undefined, number>
  body: Json<unknown> | null
  created_at: Timestamp
}

export interface UsageReportTable {
  id: string
  account_id: string
  dimension: string
  quantity: ColumnType<number, number, number>
  occurred_at: Timestamp
  usage_hour: Timestamp
  billed_hour: Timestamp
  idempotency_key: string | null
  created_at: Timestamp
}

export interface UsageHourTable {
  account_id: string
  dimension: string
  hour: Timestamp
  quantity: ColumnType<number, number | undefined, number>
  reports: ColumnType<number, number | undefined, number>
  status: ColumnType<string, string | undefined, string>
  sent_quantity: number | null
  metering_status: string | null
  metering_record_id: string | null
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp | null
  last_error: string | null
  sent_at: Timestamp | null
  updated_at: Timestamp
}

export interface JobLeaseTable {
  name: string
  owner: string
  expires_at: Timestamp
}

export interface JobTable {
  id: string
  kind: string
  account_id: string | null
  payload: Json<Record<string, unknown>>
  secret_encrypted: string | null
  status: ColumnType<string, string | undefined, string>
  attempts: ColumnType<number, number | undefined, number>
  max_attempts: number
  run_at: Timestamp
  lease_owner: ColumnType<string | null, string | null | undefined, string | null>
  lease_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  last_error: ColumnType<string | null, string | null | undefined, string | null>
  dedupe_key: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface OAuthTokenTable {
  account_id: string
  access_token_encrypted: string
  refresh_token_encrypted: string
  expires_at: Timestamp
  created_at: Timestamp
  updated_at: Timestamp
}

export interface Database {
  accounts: AccountTable
  account_events: AccountEventTable
  webhook_endpoints: WebhookEndpointTable
  webhook_deliveries: WebhookDeliveryTable
  webhook_delivery_attempts: WebhookDeliveryAttemptTable
  inbound_messages: InboundMessageTable
  account_credentials: AccountCredentialTable
  login_tickets: LoginTicketTable
  parked_messages: ParkedMessageTable
  usage_reports: UsageReportTable
  usage_hours: UsageHourTable
  job_leases: JobLeaseTable
  jobs: JobTable
  oauth_tokens: OAuthTokenTable
}

export type AccountRow = Selectable<AccountTable>
export type NewAccountRow = Insertable<AccountTable>
export type AccountUpdate = Updateable<AccountTable>
export type AccountEventRow = Selectable<AccountEventTable>
