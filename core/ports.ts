import type { Account, AccountDraft, AccountKey, AccountStatus, Marketplace } from './account.js'
import type { LoginUser } from './account.commands.js'
import type { MachineState } from './account.machine.js'
import type { LifecycleEvent, StoredEvent } from './events.js'

/** Time, injected everywhere so tests never sleep. */
export interface Clock {
  now(): Date
}

/** Randomness, injected so tests can be deterministic. */
export interface Random {
  /** A new RFC 4122 UUID. */
  uuid(): string
  /** `n` cryptographically strong random bytes. */
  bytes(n: number): Uint8Array
}

declare const attachment: unique symbol

/**
 * A row another store wants written together with a new account (its first API key, a job
 * for it): opaque to core and providers, and only the storage that made it can write it.
 * The row names its account only once the storage has written the account.
 */
export interface Attachment {
  readonly [attachment]: true
}

/**
 * The writes of one lifecycle change, all inside one database transaction.
 * Implementations must hold a row lock on every account they return from `lock…`
 * until the transaction ends, so that two writers of one account take turns.
 */
export interface LifecycleTx {
  /** Locks and returns the account with this key, or undefined. */
  lockAccountByKey(key: AccountKey): Promise<Account | undefined>
  /** Locks and returns the account with this id, or undefined. */
  lockAccountById(id: string): Promise<Account | undefined>
  /**
   * Inserts a new account. Returns undefined, without failing the transaction, when another
   * writer inserted the same key first; the caller then locks that one and tries again.
   */
  insertAccount(draft: AccountDraft & MachineState): Promise<Account | undefined>
  /** Writes the new state of a locked account and bumps its version. */
  updateAccount(id: string, state: MachineState): Promise<Account>
  /**
   * Appends events to the log and, in the same transaction, one outbox row per enabled
   * webhook endpoint whose filter matches each event.
   */
  appendEvents(accountId: string | null, events: LifecycleEvent[]): Promise<StoredEvent[]>
  /**
   * Records a marketplace message id. False when it was recorded before: the message is a
   * duplicate and must change nothing. Concurrent duplicates: exactly one gets true.
   */
  recordInboundMessage(marketplace: Marketplace, messageId: string, payload: unknown): Promise<boolean>
  /** Writes attachments (made by this storage) for the account with this id, in this transaction. */
  attach(accountId: string, attachments: Attachment[]): Promise<void>
}

export interface LifecycleStore {
  /** Runs `fn` in one transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: LifecycleTx) => Promise<T>): Promise<T>
  /**
   * Optional fast path for a new account: ONE atomic write of the account, its events with
   * their outbox rows (and the NOTIFY), and the attachments, without a transaction around it.
   * Undefined when an account with that key exists: then nothing was written.
   */
  create?(draft: AccountDraft & MachineState, events: LifecycleEvent[], attachments: Attachment[]): Promise<{ account: Account, events: StoredEvent[] } | undefined>
}

export interface AccountFilter {
  product?: string
  marketplace?: Marketplace
  status?: AccountStatus
  externalId?: string
}

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

/** Read side of accounts, for the /v1 API and providers' lookups. */
export interface AccountReader {
  getAccount(id: string): Promise<Account | undefined>
  findAccount(key: AccountKey): Promise<Account | undefined>
  listAccounts(filter: AccountFilter, page: { limit: number, after?: string }): Promise<Page<Account>>
  listEvents(accountId: string, page: { limit: number, after?: string }): Promise<Page<StoredEvent>>
}

/** A cookie for the browser, in terms any HTTP framework can set. */
export interface SessionCookie {
  name: string
  value: string
  options: { path: string, httpOnly: boolean, sameSite: 'lax' | 'strict' | 'none', secure: boolean, maxAge?: number }
}

/**
 * What happens after a marketplace has signed a user in (Heroku SSO, AWS registration):
 * a one-time login ticket (redeemable once, for 60 s, at POST /v1/login-tickets/redeem) and a
 * signed session cookie. `location` is MARKETGATE_LOGIN_URL with `?ticket=…`, or the
 * gateway's own signed-in page when no login URL is configured. The provider records the
 * `login` command itself, then redirects the browser to `location` with these cookies.
 */
export interface LoginHandoff {
  begin(account: Account, user: LoginUser): Promise<{ location: string, cookies: SessionCookie[] }>
}

/**
 * Credentials the gateway issues to marketplace customers: the API key a Heroku app receives
 * as `<PREFIX>_API_KEY`. Keys are random, sealed at rest, and one is current per account.
 */
export interface CredentialStore {
  /**
   * Inside a lifecycle change (`ExecuteOptions.within`): the account's current API key, or a
   * fresh random one issued in the same transaction when it has none. Returns it in clear.
   * `tx` must come from the same storage as this store.
   */
  ensureApiKey(tx: LifecycleTx, accountId: string): Promise<string>
  /**
   * A fresh random key for an account about to be created (`ExecuteOptions.attachOnCreate`):
   * the key in clear, and the attachment that writes it as the new account's current key.
   */
  prepareApiKey(): { key: string, attachment: Attachment }
  /**
   * On its own (not inside a lifecycle change): the account's current API key, or a fresh one
   * issued now when it has none. Takes the account's row lock, so it takes turns with
   * `ensureApiKey`; undefined when no account has this id.
   */
  ensureApiKeyOf(accountId: string): Promise<string | undefined>
  /** The account's current API key in clear, or undefined when it has none. */
  currentApiKey(accountId: string): Promise<string | undefined>
  /**
   * Inside a lifecycle change: issues a new current key and lets every key that was current
   * stay valid for `graceMs` more (apps restarting onto the new config never hold a dead key).
   * Returns the new key in clear.
   */
  rotateApiKey(tx: LifecycleTx, accountId: string, graceMs: number): Promise<string>
  /** The account a key belongs to, while it is valid (current, or within its grace); else undefined. */
  verifyApiKey(key: string): Promise<{ accountId: string, expiresAt: Date | null } | undefined>
}

/** Where a lookup searches: a product's accounts on one marketplace. */
export type AccountScope = Pick<AccountKey, 'product' | 'marketplace'>

/**
 * Finds accounts by marketplace facts kept in their metadata. AWS needs it: a legacy SNS
 * message names only the CustomerIdentifier, an EventBridge agreement event only the agreement
 * and the buyer's AWS account, while accounts are keyed by LicenseArn where AWS gives one.
 */
export interface AccountLookup {
  /** Accounts of one product on one marketplace whose `metadata[name]`, as text, equals `value`; oldest first. */
  findAccountsByFact(scope: AccountScope, name: string, value: string, page: { limit: number, after?: string }): Promise<Page<Account>>
  /** Accounts of one product on one marketplace held by this customer cloud account (AWS account id). */
  findAccountsByCustomerAccountId(scope: AccountScope, customerAccountId: string): Promise<Account[]>
  /**
   * The payload recorded with a message id by a lifecycle change (`ExecuteOptions.messageId`),
   * or undefined when no change recorded that id. Lets a provider recognise a call it already
   * applied without keeping its own record in the account.
   */
  findInboundMessage(marketplace: Marketplace, messageId: string): Promise<{ payload: unknown } | undefined>
}

/**
 * A marketplace message set aside: `dead` after it kept failing (kept for an operator to read),
 * or `waiting` when it names an account the gateway does not know yet (replayed when it does).
 */
export interface ParkedMessage {
  id: string
  marketplace: Marketplace
  /** Where it came from: `sqs`, `sns`, `events`. */
  source: string
  messageId: string
  state: 'dead' | 'waiting'
  /** For `waiting`: what will release it (e.g. `aws-account:123456789012`). */
  matchKey: string | null
  reason: string
  attempts: number
  body: unknown
  createdAt: Date
}

export interface ParkedMessageStore {
  /** Parks a message; parking the same (marketplace, messageId) again updates its state and reason. */
  park(message: Omit<ParkedMessage, 'id' | 'createdAt'>): Promise<void>
  list(filter: { marketplace?: Marketplace, state?: ParkedMessage['state'] }, page: { limit: number, after?: string }): Promise<Page<ParkedMessage>>
  /** The waiting messages with this match key, oldest first, left in place until removed. */
  listWaiting(marketplace: Marketplace, matchKey: string): Promise<ParkedMessage[]>
  /**
   * Inside a lifecycle change (`ExecuteOptions.within`): removes the parked message in that same
   * transaction, so it is gone exactly when its change commits. `tx` must come from the same
   * storage as this store.
   */
  removeWithin(tx: LifecycleTx, id: string): Promise<void>
  /** Removes a parked message on its own (one whose replay had nothing left to change). */
  remove(id: string): Promise<void>
}

/**
 * Named leases so that periodic jobs run on one instance at a time. A lease held past its
 * expiry is free for anyone: a dead instance blocks nobody for longer than `ttlMs`.
 */
export interface LeaseStore {
  /** True when `owner` now holds `name` until now + ttlMs (renewing its own lease is allowed). */
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean>
  release(name: string, owner: string): Promise<void>
}
