import type { Kysely } from 'kysely'
import type { Clock, OAuthTokenStore } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database } from './tables.js'

/** OAuth tokens per account, both sealed with the secret box; a save replaces the set. */
export function createOAuthTokenStore (deps: { db: Kysely<Database>, secrets: SecretBox, clock: Clock }): OAuthTokenStore {
  const { db, secrets, clock } = deps
  return {
    async get (accountId) {
      const row = await db.selectFrom('oauth_tokens').selectAll().where('account_id', '=', accountId).executeTakeFirst()
      if (row === undefined) return undefined
      return {
        accessToken: secrets.open(row.access_token_encrypted),
        refreshToken: secrets.open(row.refresh_token_encrypted),
        expiresAt: new Date(row.expires_at)
      }
    },
    async save (accountId, tokens) {
      const now = clock.now()
      const values = {
        access_token_encrypted: secrets.seal(tokens.accessToken),
        refresh_token_encrypted: secrets.seal(tokens.refreshToken),
        expires_at: tokens.expiresAt,
        updated_at: now
      }
      await db.insertInto('oauth_tokens').values({ account_id: accountId, created_at: now, ...values })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(values)).execute()
    }
  }
}
