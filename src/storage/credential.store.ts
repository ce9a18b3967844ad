import type { Kysely, Transaction } from 'kysely'
import type { Clock, CredentialStore, Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { transactionOf } from './account.store.js'
import type { Database } from './tables.js'

const apiKeyKind = 'api_key'

/**
 * API keys issued to marketplace customers: 32 random bytes, `mgk_` + base64url, sealed with
 * the secret box; the keyed digest (unique) finds the account of a key without storing it in
 * clear, so a lookup by key is one indexed equality and leaks nothing through timing.
 */
export function createCredentialStore (deps: { db: Kysely<Database>, secrets: SecretBox, clock: Clock, random: Random }): CredentialStore {
  const { db, secrets, clock, random } = deps

  async function current (q: Kysely<Database> | Transaction<Database>, accountId: string): Promise<string | undefined> {
    const row = await q.selectFrom('account_credentials').select('secret_encrypted')
      .where('account_id', '=', accountId).where('kind', '=', apiKeyKind).where('expires_at', 'is', null)
      .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()
    return row && secrets.open(row.secret_encrypted)
  }

  async function issue (trx: Transaction<Database>, accountId: string): Promise<string> {
    const key = `mgk_${Buffer.from(random.bytes(32)).toString('base64url')}`
    await trx.insertInto('account_credentials').values({
      id: random.uuid(),
      account_id: accountId,
      kind: apiKeyKind,
      secret_encrypted: secrets.seal(key),
      secret_digest: secrets.digest(key),
      created_at: clock.now(),
      expires_at: null
    }).execute()
    return key
  }

  return {
    async ensureApiKey (tx, accountId, options = {}) {
      const trx = transactionOf(tx)
      if (options.fresh) return issue(trx, accountId)
      // The caller holds the account's row lock, so two issuers of one account take turns.
      const existing = await current(trx, accountId)
      if (existing !== undefined) return existing
      return issue(trx, accountId)
    },
    currentApiKey: (accountId) => current(db, accountId),
    async rotateApiKey (tx, accountId, graceMs) {
      const trx = transactionOf(tx)
      await trx.updateTable('account_credentials').set({ expires_at: new Date(clock.now().getTime() + graceMs) })
        .where('account_id', '=', accountId).where('kind', '=', apiKeyKind).where('expires_at', 'is', null).execute()
      return issue(trx, accountId)
    },
    async verifyApiKey (key) {
      const row = await db.selectFrom('account_credentials').select(['account_id', 'expires_at'])
        .where('secret_digest', '=', secrets.digest(key)).where('kind', '=', apiKeyKind).executeTakeFirst()
      if (row === undefined) return undefined
      const expiresAt = row.expires_at === null ? null : new Date(row.expires_at)
      if (expiresAt !== null && expiresAt.getTime() <= clock.now().getTime()) return undefined
      return { accountId: row.account_id, expiresAt }
    }
  }
}
