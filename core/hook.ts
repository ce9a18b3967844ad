import type { Account, Marketplace } from './account.js'
import type { Attachment, LifecycleTx } from './ports.js'

/**
 * Vendor decisions (contract §7): before some marketplace calls the gateway asks the vendor's
 * hook whether to go on, and with which config. Providers ask through this port; `src`
 * implements it (signed HTTP request, recorded decision, metrics).
 */
export const hookQuestionTypes = ['provision.requested', 'plan_change.requested', 'quantity_change.requested'] as const
export type HookQuestionType = typeof hookQuestionTypes[number]

export interface HookQuestion {
  type: HookQuestionType
  product: string
  marketplace: Marketplace
  externalId: string
  plan: string | null
  previousPlan?: string | null
  quantity?: number | null
  previousQuantity?: number | null
  /** As the marketplace sent them. */
  region?: string | null
  options?: Record<string, unknown>
  /** The account as it is, when it exists. */
  account?: Account
  /** What the marketplace says about the customer (its app, its email), when it says anything. */
  customer?: Record<string, unknown>
}

export const hookOutcomes = ['allowed', 'refused', 'undecided'] as const
export type HookOutcome = typeof hookOutcomes[number]

/** What the vendor decided, or that it did not decide. `config` values may be secrets: never log them. */
export type HookDecision =
  | { outcome: 'allowed', config: Record<string, string>, logDrainUrl?: string, message?: string }
  | { outcome: 'refused', message: string }
  | { outcome: 'undecided', reason: string }

export interface HookAskOptions {
  /** A deadline shorter than the hook's own (Azure's 10-second window, say); never longer. */
  deadlineMs?: number
  /**
   * The caller's rule for the vendor's config (Heroku: names in HEROKU_CONFIG_VARS): a reason
   * when it breaks it, which turns an allow into `undecided` (recorded and logged as such).
   */
  checkConfig?: (config: Record<string, string>) => string | undefined
}

export interface VendorHook {
  /**
   * Asks the vendor, once per call, and records the decision. A question already refused
   * (same question id) gets that refusal back without asking again. Never throws for anything
   * the hook does (slow, redirect, 5xx, bad body): that is `undecided` with a reason.
   */
  decide(question: HookQuestion, options?: HookAskOptions): Promise<HookDecision>
  /** The stable id of a question: the `webhook-id` of every ask of it. */
  questionId(question: HookQuestion): string
}

/** What an allowed decision handed out, kept (sealed) so a repeat answers as the first call did. */
export interface HookGrant {
  config: Record<string, string>
  /** The question it answered (a plan change's repeat finds its own grant by it). */
  questionId?: string
  logDrainUrl?: string
  message?: string
}

/** The vendor's config kept per account, sealed at rest. */
export interface HookGrantStore {
  /** Written with a new account (`ExecuteOptions.attachOnCreate`). */
  prepare(grant: HookGrant): Attachment
  /** Written inside a lifecycle change (`ExecuteOptions.within`); becomes the account's latest grant. */
  saveWithin(tx: LifecycleTx, accountId: string, grant: HookGrant): Promise<void>
  /** On its own: becomes the account's latest grant. */
  save(accountId: string, grant: HookGrant): Promise<void>
  /** The account's latest grant, or undefined. */
  latest(accountId: string): Promise<HookGrant | undefined>
}
