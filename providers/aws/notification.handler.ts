import {
  isMarketgateError, type Account, type Clock, type Command, type Entitlement, type Lifecycle, type LifecycleTx, type ParkedMessageStore
} from '../../core/index.js'
import { locateAndWrite, type LocateDeps } from './account.locate.js'
import type { EntitlementSubject } from './entitlements.js'
import { planFor } from './entitlements.js'
import { AwsAction, licenseIdOf, type AwsNotification } from './notification.parse.js'

export type HandleOutcome = 'changed' | 'unchanged' | 'duplicate' | 'ignored' | 'waiting'

export interface HandlerDeps extends LocateDeps {
  productCode: string
  planDimensions: Record<string, string>
  lifecycle: Lifecycle
  parked: ParkedMessageStore
  clock: Clock
  fetchEntitlements: (who: EntitlementSubject) => Promise<Entitlement[]>
  log: { info: (obj: object, msg: string) => void, warn: (obj: object, msg: string) => void }
}

/** What a waiting agreement event is released by. */
export const agreementKey = (agreementId: string) => `aws-agreement:${agreementId}`

/** Metadata facts every AWS account keeps, so that later messages can find it (see account.locate.ts). */
export function factsOf (n: Partial<AwsNotification>): Record<string, unknown> {
  const facts: Record<string, unknown> = {
    customerIdentifier: n.customerIdentifier,
    licenseArn: n.licenseArn,
    licenseId: n.licenseArn === undefined ? undefined : licenseIdOf(n.licenseArn),
    agreementId: n.agreementId,
    offerId: n.offerId,
    freeTrial: n.freeTrial
  }
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined))
}

/** Who GetEntitlements should ask about: what the stored account knows first, then the message. */
export function subjectOf (account: Account | undefined, n: Partial<AwsNotification>): EntitlementSubject {
  const m = account?.metadata ?? {}
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return {
    licenseArn: s(m.licenseArn) ?? n.licenseArn,
    customerIdentifier: s(m.customerIdentifier) ?? n.customerIdentifier,
    customerAccountId: account?.customerAccountId ?? n.customerAccountId
  }
}

/**
 * The one handler behind SNS, SQS and EventBridge. Maps a notification to a core command and
 * runs it under the message's id, so a duplicate changes nothing and a late message (say a
 * subscribe-success after unsubscribe-success) is acknowledged without change. A notification
 * for an unknown customer creates the account (pending, or straight to its status), so nothing
 * is lost when AWS is faster than the buyer; an agreement event whose agreement no account is
 * linked to waits in `parked_messages` until a License Updated event links it. Throws only what is worth retrying.
 */
export function createNotificationHandler (deps: HandlerDeps) {
  /** `within`: more writes committed with the change (a replayed message removes its parked row). */
  async function handle (n: AwsNotification, source: string, within?: (tx: LifecycleTx) => Promise<void>): Promise<HandleOutcome> {
    if (n.productCode !== undefined && n.productCode !== deps.productCode) {
      deps.log.info({ messageId: n.messageId, action: n.action }, 'aws notification for another product: ignored')
      return 'ignored'
    }
    try {
      const r = await locateAndWrite(deps, n, async (found) => deps.lifecycle.execute(found.target, await commandFor(n, found.account), {
        createIfAbsent: true, messageId: n.messageId, messageMarketplace: 'aws', messagePayload: n.payload, draft: { customerAccountId: n.customerAccountId ?? null },
        ...(within ? { within: (tx: LifecycleTx) => within(tx) } : {})
      }))
      if (r === undefined) return await park(n, source)
      deps.log.info({ messageId: n.messageId, action: n.action, outcome: r.outcome, reason: r.reason, accountId: r.account?.id }, 'aws notification')
      if (r.account !== undefined) await releaseFor(r.account)
      return r.outcome
    } catch (err) {
      // A refusal is permanent (the message can never apply): acknowledge it, do not loop.
      if (isMarketgateError(err) && err.code !== 'CONFLICT' && err.code !== 'INTERNAL' && err.code !== 'UPSTREAM_UNAVAILABLE' && err.code !== 'UNAVAILABLE') {
        deps.log.warn({ messageId: n.messageId, action: n.action, code: err.code }, 'aws notification refused')
        return 'unchanged'
      }
      throw err
    }
  }

  async function commandFor (n: AwsNotification, account: Account | undefined): Promise<Command> {
    const metadata = factsOf(n)
    const customerAccountId = n.customerAccountId ?? null
    switch (n.action) {
      case AwsAction.subscribeSuccess:
      case AwsAction.agreementCreated:
        return { type: 'activate', metadata, customerAccountId }
      case AwsAction.subscribeFail:
        return { type: 'fail', reason: 'subscribe-fail', metadata, customerAccountId }
      case AwsAction.unsubscribePending:
      case AwsAction.licenseDeprovisioned:
        return { type: 'suspend', reason: n.action, metadata, customerAccountId }
      case AwsAction.unsubscribeSuccess:
      case AwsAction.agreementEnded:
        return { type: 'cancel', reason: n.action, metadata, customerAccountId }
      case AwsAction.entitlementUpdated:
      case AwsAction.licenseUpdated:
      case AwsAction.agreementAmended: {
        // The message only says "something changed": the truth is what GetEntitlements says now.
        const entitlements = await deps.fetchEntitlements(subjectOf(account, n))
        const plan = planFor(entitlements, deps.planDimensions, deps.clock.now())
        return { type: 'updateEntitlements', entitlements, plan, metadata: { ...metadata, contract: true }, customerAccountId }
      }
    }
  }

  async function park (n: AwsNotification, source: string): Promise<HandleOutcome> {
    const matchKey = n.agreementId === undefined ? null : agreementKey(n.agreementId)
    await deps.parked.park({
      marketplace: 'aws', source, messageId: n.messageId, state: matchKey ? 'waiting' : 'dead', matchKey,
      reason: 'no account is linked to this agreement yet', attempts: 0, body: n
    })
    deps.log.info({ messageId: n.messageId, action: n.action, agreementId: n.agreementId }, 'aws notification waits for its agreement')
    return 'waiting'
  }

  /**
   * Replays agreement events that arrived before any account was linked to their agreement
   * (a License Updated event naming agreement and license links it). A parked row is deleted
   * in the transaction of its change, so an instance that dies mid-replay loses nothing: the
   * row is still there for the next release. Two instances replaying one row race on its
   * message id; the loser sees a duplicate and removes the row, which is then already gone.
   */
  async function releaseFor (account: Account): Promise<void> {
    const agreementId = account.metadata.agreementId
    if (typeof agreementId !== 'string' || agreementId === '') return
    for (const m of await deps.parked.listWaiting('aws', agreementKey(agreementId))) {
      try {
        const outcome = await handle(m.body as AwsNotification, 'waiting', (tx) => deps.parked.removeWithin(tx, m.id))
        // `changed` removed the row with the change; `waiting` kept it; anything else (duplicate,
        // stale, refused, ignored) will never change anything: done with it.
        if (outcome !== 'changed' && outcome !== 'waiting') await deps.parked.remove(m.id)
      } catch (err) {
        deps.log.warn({ messageId: m.messageId, error: (err as Error).name }, 'aws waiting notification replay failed; it stays waiting')
      }
    }
  }

  return { handle, releaseFor }
}

export type NotificationHandler = ReturnType<typeof createNotificationHandler>
