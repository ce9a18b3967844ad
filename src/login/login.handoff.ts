import { Signer, sign } from '@fastify/cookie'
import type { Kysely } from 'kysely'
import { MarketgateError, type Account, type Clock, type LoginHandoff, type LoginUser, type Random, type SessionCookie } from '../../core/index.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database } from '../storage/tables.js'

export const sessionCookieName = 'marketgate_session'
/** A ticket works once, for this long (CONTRACT §4). */
export const ticketLifetimeMs = 60_000
/** The gateway's own session lasts a working day. */
export const sessionLifetimeMs = 12 * 3600_000

export interface Session {
  accountId: string
  marketplace: string
  email: string | null
  userId: string | null
  app: string | null
  expiresAt: number
}

export interface LoginService extends LoginHandoff {
  /** Burns a ticket and returns what it was issued for; 404 unknown or forged, 410 used or expired. */
  redeem(ticket: string): Promise<{ accountId: string, user: Record<string, unknown>, issuedAt: Date }>
  /** Reads a signed session cookie value; undefined when absent, forged or expired. */
  readSession(cookieValue: string | undefined): Session | undefined
}

/**
 * Login tickets and sessions. Tickets are 256 random bits, stored only as a keyed digest, so
 * a database dump cannot be replayed. The session is a signed cookie (HMAC via
 * @fastify/cookie's signer, under a subkey of MARKETGATE_SECRET_KEY): stateless, so any
 * instance can read it.
 */
export function createLoginService (deps: {
  db: Kysely<Database>, secrets: SecretBox, clock: Clock, random: Random
  publicUrl: string, loginUrl: string | undefined
}): LoginService {
  const { db, secrets, clock, random } = deps
  const sessionKey = secrets.subkey('session').toString('base64')
  // Sessions signed under the previous key still verify during a secret-key rotation.
  const sessionVerifier = new Signer(secrets.subkeys('session').map((k) => k.toString('base64')))
  const secure = deps.publicUrl.startsWith('https://')

  function sessionCookie (account: Account, user: LoginUser): SessionCookie {
    const session: Session = {
      accountId: account.id,
      marketplace: account.marketplace,
      email: user.email ?? null,
      userId: user.userId ?? null,
      app: user.app ?? null,
      expiresAt: clock.now().getTime() + sessionLifetimeMs
    }
    const value = sign(Buffer.from(JSON.stringify(session)).toString('base64url'), sessionKey)
    return { name: sessionCookieName, value, options: { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: sessionLifetimeMs / 1000 } }
  }

  return {
    async begin (account, user) {
      const ticket = `mgt_${Buffer.from(random.bytes(32)).toString('base64url')}`
      const now = clock.now()
      await db.insertInto('login_tickets').values({
        id: random.uuid(),
        ticket_digest: secrets.digest(ticket),
        account_id: account.id,
        login_user: JSON.stringify({ email: user.email ?? null, id: user.userId ?? null, app: user.app ?? null, source: user.source }),
        created_at: now,
        expires_at: new Date(now.getTime() + ticketLifetimeMs)
      }).execute()
      let location = `${deps.publicUrl}/session`
      if (deps.loginUrl !== undefined) {
        const url = new URL(deps.loginUrl)
        url.searchParams.set('ticket', ticket)
        location = url.toString()
      }
      return { location, cookies: [sessionCookie(account, user)] }
    },

    async redeem (ticket) {
      const now = clock.now()
      // Under either key during a secret-key rotation: a ticket issued just before it still works.
      const digests = secrets.digests(ticket)
      // One statement burns the ticket: two concurrent redeems cannot both succeed.
      const row = await db.updateTable('login_tickets').set({ redeemed_at: now })
        .where('ticket_digest', 'in', digests).where('redeemed_at', 'is', null)
        .returningAll().executeTakeFirst()
      if (row === undefined) {
        const used = await db.selectFrom('login_tickets').select('id').where('ticket_digest', 'in', digests).executeTakeFirst()
        if (used !== undefined) throw new MarketgateError('GONE', 'this ticket was already used')
        throw new MarketgateError('NOT_FOUND', 'unknown ticket')
      }
      if (new Date(row.expires_at).getTime() <= now.getTime()) throw new MarketgateError('GONE', 'this ticket has expired')
      return { accountId: row.account_id, user: row.login_user, issuedAt: new Date(row.created_at) }
    },

    readSession (cookieValue) {
      if (cookieValue === undefined) return undefined
      const result = sessionVerifier.unsign(cookieValue)
      if (!result.valid || result.value === null) return undefined
      try {
        const session = JSON.parse(Buffer.from(result.value, 'base64url').toString('utf8')) as Session
        return session.expiresAt > clock.now().getTime() ? session : undefined
      } catch {
        return undefined
      }
    }
  }
}
