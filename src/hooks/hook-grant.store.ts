import type { Kysely, Transaction } from 'kysely'
import type { Clock, HookGrant, HookGrantStore, Random } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { transactionOf } from '../storage/account.store.js'
import { rowAttachment } from '../storage/attachment.js'
import type { Database } from '../storage/tables.js'

const kind = 'hook_config'

/**
 * The config a vendor's hook handed out for an account (it may hold the customer's database
 * password), kept as a credential row: sealed with the secret box like an API key, written in
 * the account's own create, and re-sealed by `rotate-secret-key` with every other credential.
 * The sealed text names its own row id, so its keyed digest (unique in that table) is unique
 * even when two accounts got the same config.
 */
export function createHookGrantStore (deps: { db: Kysely<Database>, secrets: SecretBox, clock: Clock, random: Random }): HookGrantStore {
  const { db, secrets, clock, random } = deps

  function row (accountId: string, grant: HookGrant) {
    const id = random.uuid()
    const plain = JSON.stringify({ id, grant })
    return { id, account_id: accountId, kind, secret_encrypted: secrets.seal(plain), secret_digest: secrets.digest(plain), created_at: clock.now(), expires_at: null }
  }

  async function insert (q: Kysely<Database> | Transaction<Database>, accountId: string, grant: HookGrant): Promise<void> {
    await q.insertInto('account_credentials').values(row(accountId, grant)).execute()
  }

  return {
    prepare: (grant) => rowAttachment('account_credentials', (accountId) => row(accountId, grant)),
    saveWithin: (tx, accountId, grant) => insert(transactionOf(tx), accountId, grant),
    save: (accountId, grant) => insert(db, accountId, grant),
    async latest (accountId) {
      const found = await db.selectFrom('account_credentials').select('secret_encrypted')
        .where('account_id', '=', accountId).where('kind', '=', kind)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()
      return found === undefined ? undefined : (JSON.parse(secrets.open(found.secret_encrypted)) as { grant: HookGrant }).grant
    }
  }
}
