// Table types, one interface per table, and the one Database interface Kysely is typed with.
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T> = ColumnType<T, string, string>

export interface AccountTable {
  id: string
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
}

export interface WebhookEndpointTable {
  id: string
  url: string
  description: string | null
  events: string[] | null
  enabled: ColumnType<boolean, boolean | undefined, boolean>
  secret_encrypted: string
  created_at: Timestamp
  updated_at: Timestamp
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

export interface JobLeaseTable {
  name: string
  owner: string
  expires_at: Timestamp
}

export interface Database {
  accounts: AccountTable
  account_events: AccountEventTable
  webhook_endpoints: WebhookEndpointTable
  webhook_deliveries: WebhookDeliveryTable
  inbound_messages: InboundMessageTable
  account_credentials: AccountCredentialTable
  login_tickets: LoginTicketTable
  parked_messages: ParkedMessageTable
  job_leases: JobLeaseTable
}

export type AccountRow = Selectable<AccountTable>
export type NewAccountRow = Insertable<AccountTable>
export type AccountUpdate = Updateable<AccountTable>
export type AccountEventRow = Selectable<AccountEventTable>
