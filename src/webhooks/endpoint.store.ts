import type { Kysely, Selectable } from 'kysely'
import type { Clock, Page, Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { pageOf } from '../storage/cursor.js'
import type { Database, WebhookEndpointTable } from '../storage/tables.js'
import { endWaitingDeliveries } from './delivery.record.js'
import { generateSecret } from './webhook.signer.js'

export type EndpointRow = Selectable<WebhookEndpointTable>

/** An endpoint as the API shows it; secrets stay out (they are returned only on create and rotate). */
export interface WebhookEndpoint {
  id: string
  url: string
  description: string | null
  /** null: every event type. */
  events: string[] | null
  /** null: every product's events. */
  products: string[] | null
  enabled: boolean
  disabledAt: Date | null
  disabledReason: string | null
  failingSince: Date | null
  previousSecretExpiresAt: Date | null
  createdAt: Date
  updatedAt: Date
}

/** How long a rotated-out secret keeps signing beside the new one. */
export const secretGracePeriodMs = 24 * 60 * 60 * 1000

export function rowToEndpoint (row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    products: row.products,
    enabled: row.enabled,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at)
  }
}

/** The secrets that sign at `now`: the current one, and the previous one inside its grace period. */
export function signingSecrets (secrets: Pick<SecretBox, 'open'>, row: Pick<EndpointRow, 'secret_encrypted' | 'previous_secret_encrypted' | 'previous_secret_expires_at'>, now: Date): string[] {
  const out = [secrets.open(row.secret_encrypted)]
  const expires = row.previous_secret_expires_at
  if (row.previous_secret_encrypted !== null && expires !== null && new Date(expires).getTime() > now.getTime()) {
    out.push(secrets.open(row.previous_secret_encrypted))
  }
  return out
}

export interface EndpointPatch {
  url?: string
  events?: string[] | null
  products?: string[] | null
  description?: string | null
  enabled?: boolean
}

/** Webhook endpoints over Kysely; secrets sealed at rest with the SecretBox. */
export function createEndpointStore (deps: { db: Kysely<Database>, clock: Clock, random: Random, secrets: SecretBox }) {
  const { db, clock, random, secrets } = deps

  return {
    async create (input: { url: string, events?: string[] | null, products?: string[] | null, description?: string | null }): Promise<{ endpoint: WebhookEndpoint, secret: string }> {
      const now = clock.now()
      const secret = generateSecret(random)
      const row = await db.insertInto('webhook_endpoints').values({
        id: random.uuid(),
        url: input.url,
        events: input.events ?? null,
        products: input.products ?? null,
        description: input.description ?? null,
        secret_encrypted: secrets.seal(secret),
        created_at: now,
        updated_at: now
      }).returningAll().executeTakeFirstOrThrow()
      return { endpoint: rowToEndpoint(row), secret }
    },

    async get (id: string): Promise<WebhookEndpoint | undefined> {
      const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst()
      return row && rowToEndpoint(row)
    },

    async list (page: { limit: number, after?: string }): Promise<Page<WebhookEndpoint>> {
      let q = db.selectFrom('webhook_endpoints').selectAll()
      if (page.after) q = q.where('id', '>', page.after)
      const rows = await q.orderBy('id').limit(page.limit + 1).execute()
      return pageOf(rows.map(rowToEndpoint), page.limit)
    },

    /**
     * Applies a patch. Disabling ends the endpoint's waiting deliveries, as an automatic
     * disable does (a recover after re-enabling brings them back, with the events it missed).
     * Enabling forgets the failure streak and why it was disabled.
     */
    async update (id: string, patch: EndpointPatch): Promise<WebhookEndpoint | undefined> {
      const now = clock.now()
      const enabling = patch.enabled === true
      return db.transaction().execute(async (trx) => {
        const row = await trx.updateTable('webhook_endpoints').set({
          ...(patch.url !== undefined ? { url: patch.url } : {}),
          ...(patch.events !== undefined ? { events: patch.events } : {}),
          ...(patch.products !== undefined ? { products: patch.products } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.enabled === false ? { enabled: false, disabled_at: now, disabled_reason: 'by request' } : {}),
          ...(enabling ? { enabled: true, disabled_at: null, disabled_reason: null, failing_since: null } : {}),
          updated_at: now
        }).where('id', '=', id).returningAll().executeTakeFirst()
        if (row !== undefined && patch.enabled === false) await endWaitingDeliveries(trx, id, 'by request', now)
        return row && rowToEndpoint(row)
      })
    },

    async remove (id: string): Promise<boolean> {
      const r = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    },

    /**
     * A new secret signs from now on; the old one keeps signing beside it for 24 h so the
     * vendor can roll out the new one with no rejected webhook. Rotating again within those
     * 24 h drops the oldest.
     */
    async rotate (id: string): Promise<{ endpoint: WebhookEndpoint, secret: string } | undefined> {
      const now = clock.now()
      const secret = generateSecret(random)
      return db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom('webhook_endpoints').select('secret_encrypted').where('id', '=', id).forUpdate().executeTakeFirst()
        if (current === undefined) return undefined
        const row = await trx.updateTable('webhook_endpoints').set({
          secret_encrypted: secrets.seal(secret),
          previous_secret_encrypted: current.secret_encrypted,
          previous_secret_expires_at: new Date(now.getTime() + secretGracePeriodMs),
          updated_at: now
        }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
        return { endpoint: rowToEndpoint(row), secret }
      })
    }
  }
}

export type EndpointStore = ReturnType<typeof createEndpointStore>
