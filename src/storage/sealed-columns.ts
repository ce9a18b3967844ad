/**
 * Every stored value sealed with the SecretBox, and every keyed digest computed from one:
 * what the start-up key check samples and what rotate-secret-key re-seals. A new sealed column
 * belongs here, or a key rotation leaves it behind (test/src/storage/sealed-columns.test.ts
 * looks for `_encrypted` columns missing from this list).
 *
 * Login ticket digests are not here: a ticket is never stored in clear, so its digest cannot be
 * recomputed; tickets live 60 s and are redeemed under either key during a rotation.
 */
export interface SealedTable {
  table: string
  /** The primary key: rotation walks the table in its order. */
  key: string
  /** Sealed columns (nullable ones are skipped where null). */
  sealed: string[]
  /** A keyed digest column computed from the plaintext of one sealed column. */
  digest?: { column: string, of: string }
}

export const sealedTables: readonly SealedTable[] = [
  { table: 'webhook_endpoints', key: 'id', sealed: ['secret_encrypted', 'previous_secret_encrypted'] },
  { table: 'account_credentials', key: 'id', sealed: ['secret_encrypted'], digest: { column: 'secret_digest', of: 'secret_encrypted' } },
  { table: 'oauth_tokens', key: 'account_id', sealed: ['access_token_encrypted', 'refresh_token_encrypted'] },
  { table: 'jobs', key: 'id', sealed: ['secret_encrypted'] }
]
