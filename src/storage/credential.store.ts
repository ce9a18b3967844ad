import type { Insertable, Kysely, Transaction } from 'kysely'
import type { Clock, CredentialStore, Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { transactionOf } from './account.store.js'
import { rowAttachment } from './attachment.js'
import type { AccountCredentialTable, Database } from './tables.js'

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

  /** A new random key, and its sealed row for whichever account it will belong to. */
  function newKey (): { key: string, row: (accountId: string) => Insertable<AccountCredentialTable> } {
    const key = `mgk_${Buffer.from(random.bytes(32)).toString('base64url')}`
    const sealed = { id: random.uuid(), kind: apiKeyKind, secret_encrypted: secrets.seal(key), secret_digest: secrets.digest(key), created_at: clock.now(), expires_at: null }
    return { key, row: (accountId) => ({ ...sealed, account_id: accountId }) }
  }

  async function issue (trx: Transaction<Database>, accountId: string): Promise<string> {
    const { key, row } = newKey()
    await trx.insertInto('account_credentials').values(row(accountId)).execute()
    return key
  }

  return {
    async ensureApiKey (tx, accountId) {
      const trx = transactionOf(tx)
      // The caller holds the account's row lock, so two issuers of one account take turns.
      const existing = await current(trx, accountId)
      if (existing !== undefined) return existing
      return issue(trx, accountId)
    },
    prepareApiKey () {
      const { key, row } = newKey()
      return { key, attachment: rowAttachment('account_credentials', row) }
    },
    ensureApiKeyOf: (accountId) => db.transaction().execute(async (trx) => {
      // The account's row lock, as inside a lifecycle change: issuers of one account take turns.
      const account = await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst()
      if (account === undefined) return undefined
      return (await current(trx, accountId)) ?? issue(trx, accountId)
    }),
    currentApiKey: (accountId) => current(db, accountId),
    async rotateApiKey (tx, accountId, graceMs) {
      const trx = transactionOf(tx)
      await trx.updateTable('account_credentials').set({ expires_at: new Date(clock.now().getTime() + graceMs) })
        .where('account_id', '=', accountId).where('kind', '=', apiKeyKind).where('expires_at', 'is', null).execute()
      return issue(trx, accountId)
    },
    async verifyApiKey (key) {
      // Under either key during a secret-key rotation (the rotation re-digests every key).
      const row = await db.selectFrom('account_credentials').select(['account_id', 'expires_at'])
        .where('secret_digest', 'in', secrets.digests(key)).where('kind', '=', apiKeyKind).executeTakeFirst()
      if (row === undefined) return undefined
      const expiresAt = row.expires_at === null ? null : new Date(row.expires_at)
      if (expiresAt !== null && expiresAt.getTime() <= clock.now().getTime()) return undefined
      return { accountId: row.account_id, expiresAt }
    }
  }
}
