import type { Kysely, Transaction } from 'kysely'
import type { Clock, CredentialStore, Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { transactionOf } from './account.store.js'
import type { Database } from './tables.js'

const apiKeyKind = 'api_key'

/**
 * API keys issued to marketplace customers: 32 random bytes, `mgk_` + base64url, sealed with
 * the secret box; the keyed digest (unique) lets a future lookup find an account by key.
 */
export function createCredentialStore (deps: { db: Kysely<Database>, secrets: SecretBox, clock: Clock, random: Random }): CredentialStore {
  const { db, secrets, clock, random } = deps

  async function current (q: Kysely<Database> | Transaction<Database>, accountId: string): Promise<string | undefined> {
    const row = await q.selectFrom('account_credentials').select('secret_encrypted')
      .where('account_id', '=', accountId).where('kind', '=', apiKeyKind).where('expires_at', 'is', null)
      .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()
    return row && secrets.open(row.secret_encrypted)
  }

  return {
    async ensureApiKey (tx, accountId) {
      const trx = transactionOf(tx)
      // The caller holds the account's row lock, so two issuers of one account take turns.
      const existing = await current(trx, accountId)
      if (existing !== undefined) return existing
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
    },
    currentApiKey: (accountId) => current(db, accountId)
  }
}
