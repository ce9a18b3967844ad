import type { Account, AccountKey, Marketplace } from './account.js'
import type { Command } from './account.commands.js'
import { transition, type MachineState } from './account.machine.js'
import type { LifecycleEvent, StoredEvent } from './events.js'
import { MarketgateError } from './errors.js'
import type { Attachment, LifecycleStore, LifecycleTx } from './ports.js'

export type Target = { key: AccountKey } | { accountId: string }

export interface ExecuteOptions {
  /** Create the account when it does not exist (else a command on nobody is NOT_FOUND). */
  createIfAbsent?: boolean
  /** The marketplace's id of the message carrying this command: a repeat changes nothing. */
  messageId?: string
  /** Whose message id it is, when the target is an account id rather than a key. */
  messageMarketplace?: Marketplace
  messagePayload?: unknown
  /** Facts of a new account that the command does not carry. */
  draft?: { customerAccountId?: string | null }
  /**
   * More writes that belong to the same change (credentials of a new account, say), run in
   * the same transaction after the account is written.
   */
  within?: (tx: LifecycleTx, result: LifecycleResult) => Promise<void>
  /**
   * Rows of other stores (a first API key, a job) written only when this command creates the
   * account, in the same atomic write as the account. Unlike `within`, they leave a fresh
   * create on the store's one-statement path.
   */
  attachOnCreate?: Attachment[]
}

export interface LifecycleResult {
  /** `changed`: written; `unchanged`: a repeat or a stale message; `duplicate`: message seen before. */
  outcome: 'changed' | 'unchanged' | 'duplicate'
  reason?: 'repeat' | 'stale'
  /** True when this command created the account. */
  created: boolean
  account: Account | undefined
  events: StoredEvent[]
}

export interface Lifecycle {
  /**
   * Applies one command to one account in one transaction: locks the account (or creates it),
   * asks the machine what happens, writes account, events and outbox rows together. A fresh
   * create (see `attachOnCreate`) is one atomic write when the store offers `create`.
   * A refused command throws its MarketgateError (with `details.account` when one exists)
   * and writes nothing.
   */
  execute(target: Target, command: Command, options?: ExecuteOptions): Promise<LifecycleResult>
}

export function createLifecycle (deps: { store: LifecycleStore }): Lifecycle {
  const { store } = deps

  async function lock (tx: LifecycleTx, target: Target): Promise<Account | undefined> {
    return 'key' in target ? tx.lockAccountByKey(target.key) : tx.lockAccountById(target.accountId)
  }

  /** Whether this command creates its account when the key is new. */
  function creates (target: Target, command: Command, options: ExecuteOptions): target is { key: AccountKey } {
    return options.createIfAbsent === true && 'key' in target && (command.type === 'provision' || command.type === 'pending')
  }

  /**
   * A fresh create without a message id or `within` needs no locks and no transaction: the
   * store writes account, events, outbox and attachments in one statement. 'taken' when the
   * key exists (nothing was written); undefined when this path does not apply.
   */
  async function createAtOnce (target: Target, command: Command, options: ExecuteOptions): Promise<LifecycleResult | 'taken' | undefined> {
    if (store.create === undefined || !creates(target, command, options) || options.messageId !== undefined || options.within !== undefined) return undefined
    const step = transition(undefined, command)
    if (step.kind !== 'changed') return undefined
    const written = await store.create({ ...target.key, ...withDraft(step.next, options) }, step.events, options.attachOnCreate ?? [])
    if (written === undefined) return 'taken'
    return { outcome: 'changed', created: true, account: written.account, events: written.events }
  }

  async function run (tx: LifecycleTx, target: Target, command: Command, options: ExecuteOptions, keyTaken: boolean): Promise<LifecycleResult> {
    if (options.messageId !== undefined) {
      const marketplace = options.messageMarketplace ?? ('key' in target ? target.key.marketplace : undefined)
      if (marketplace === undefined) throw new MarketgateError('INTERNAL', 'a message id needs its marketplace')
      const first = await tx.recordInboundMessage(marketplace, options.messageId, options.messagePayload ?? null)
      if (!first) return { outcome: 'duplicate', created: false, account: await lock(tx, target), events: [] }
    }

    // A creating command first tries the insert: a new account then costs no locking read.
    // If the key exists, the insert yields and the usual path below locks and decides.
    // Skipped when the one-statement create has just found the key taken.
    if (!keyTaken && creates(target, command, options)) {
      const step = transition(undefined, command)
      if (step.kind === 'changed') {
        const account = await tx.insertAccount({ ...target.key, ...withDraft(step.next, options) })
        if (account !== undefined) return finish(tx, account, step.events, true, options)
      }
    }

    // Two rounds at most: if a concurrent writer creates the account between our lock and our
    // insert, the insert yields and the second round sees (and waits for) that account.
    for (let round = 0; round < 2; round++) {
      const current = await lock(tx, target)
      if (current === undefined && (!options.createIfAbsent || !('key' in target))) {
        throw new MarketgateError('NOT_FOUND', 'account not found')
      }
      const step = transition(current, command)
      if (step.kind === 'refused') {
        throw new MarketgateError(step.error.code, step.error.message, { details: { account: current } })
      }
      if (step.kind === 'unchanged') return { outcome: 'unchanged', reason: step.reason, created: false, account: current, events: [] }

      let account: Account | undefined
      if (current === undefined && 'key' in target) {
        account = await tx.insertAccount({ ...target.key, ...withDraft(step.next, options) })
        if (account === undefined) continue
      } else {
        account = await tx.updateAccount(current!.id, step.next)
      }
      return finish(tx, account, step.events, current === undefined, options)
    }
    throw new MarketgateError('CONFLICT', 'the account changed concurrently; try again')
  }

  async function finish (tx: LifecycleTx, account: Account, events: LifecycleEvent[], created: boolean, options: ExecuteOptions): Promise<LifecycleResult> {
    const stored = await tx.appendEvents(account.id, events)
    if (created && options.attachOnCreate !== undefined && options.attachOnCreate.length > 0) await tx.attach(account.id, options.attachOnCreate)
    const result: LifecycleResult = { outcome: 'changed', created, account, events: stored }
    if (options.within) await options.within(tx, result)
    return result
  }

  return {
    async execute (target, command, options = {}) {
      const fast = await createAtOnce(target, command, options)
      if (fast !== undefined && fast !== 'taken') return fast
      // The key exists: the usual path locks the account and decides (a repeat, most often).
      return store.transaction((tx) => run(tx, target, command, options, fast === 'taken'))
    }
  }
}

function withDraft (state: MachineState, options: ExecuteOptions): MachineState {
  const customerAccountId = state.customerAccountId ?? options.draft?.customerAccountId ?? null
  return { ...state, customerAccountId }
}
