import type { Account, AccountStatus, Entitlement } from './account.js'
import type { Command, CommandType } from './account.commands.js'
import { EventType, type LifecycleEvent } from './events.js'
import { MarketgateError, type ErrorCode } from './errors.js'

/** The state the machine reasons about: an account, or none yet. */
export type MachineState = Pick<Account, 'status' | 'plan' | 'entitlements' | 'metadata' | 'customerAccountId'>

/**
 * What one rule says. `to` moves (or keeps) the status and emits `event`;
 * `repeat` is the same call again (nothing changes, answer as before);
 * `stale` is a late or out-of-order message (acknowledged, nothing changes);
 * `refuse` is a typed refusal.
 */
type Rule =
  | { to: AccountStatus | 'same', event?: EventType }
  | { repeat: true }
  | { stale: true }
  | { refuse: ErrorCode, message: string }

const repeat: Rule = { repeat: true }
const stale: Rule = { stale: true }
const gone: Rule = { refuse: 'GONE', message: 'the account was cancelled' }
const same = (event?: EventType): Rule => ({ to: 'same', event })
const notFound: Rule = { refuse: 'NOT_FOUND', message: 'account not found' }

/**
 * The transition table: for every status (and for "no account yet"), what each command does.
 * Out-of-order marketplace messages never move an account backwards: a late activate after
 * a cancel, or a late fail after an activate, is `stale`.
 */
export const transitionTable: Record<AccountStatus | 'absent', Record<CommandType, Rule>> = {
  absent: {
    pending: { to: 'pending', event: EventType.pending },
    provision: { to: 'active', event: EventType.provisioned },
    activate: { to: 'active', event: EventType.provisioned },
    changePlan: notFound,
    cancel: { to: 'cancelled', event: EventType.cancelled },
    login: notFound,
    suspend: { to: 'suspended', event: EventType.suspended },
    reinstate: notFound,
    fail: { to: 'failed', event: EventType.failed },
    updateEntitlements: { to: 'pending', event: EventType.pending },
    rotateCredentials: notFound,
    updateMetadata: notFound
  },
  pending: {
    pending: repeat,
    provision: { to: 'active', event: EventType.provisioned },
    activate: { to: 'active', event: EventType.provisioned },
    changePlan: same(EventType.planChanged),
    cancel: { to: 'cancelled', event: EventType.cancelled },
    login: same(EventType.login),
    suspend: { to: 'suspended', event: EventType.suspended },
    reinstate: stale,
    fail: { to: 'failed', event: EventType.failed },
    updateEntitlements: same(EventType.entitlementsUpdated),
    rotateCredentials: same(EventType.credentialsRotated),
    updateMetadata: same()
  },
  active: {
    pending: repeat,
    provision: repeat,
    activate: repeat,
    changePlan: same(EventType.planChanged),
    cancel: { to: 'cancelled', event: EventType.cancelled },
    login: same(EventType.login),
    suspend: { to: 'suspended', event: EventType.suspended },
    reinstate: repeat,
    fail: stale,
    updateEntitlements: same(EventType.entitlementsUpdated),
    rotateCredentials: same(EventType.credentialsRotated),
    updateMetadata: same()
  },
  suspended: {
    pending: repeat,
    provision: repeat,
    activate: stale,
    changePlan: same(EventType.planChanged),
    cancel: { to: 'cancelled', event: EventType.cancelled },
    login: same(EventType.login),
    suspend: repeat,
    reinstate: { to: 'active', event: EventType.reinstated },
    fail: stale,
    updateEntitlements: same(EventType.entitlementsUpdated),
    rotateCredentials: same(EventType.credentialsRotated),
    updateMetadata: same()
  },
  cancelled: {
    pending: stale,
    provision: gone,
    activate: stale,
    changePlan: gone,
    cancel: repeat,
    login: gone,
    suspend: stale,
    reinstate: gone,
    fail: stale,
    updateEntitlements: stale,
    rotateCredentials: gone,
    updateMetadata: same()
  },
  failed: {
    pending: repeat,
    provision: { to: 'active', event: EventType.provisioned },
    activate: { to: 'active', event: EventType.provisioned },
    changePlan: { refuse: 'INVALID_TRANSITION', message: 'the account failed; its plan cannot change' },
    cancel: { to: 'cancelled', event: EventType.cancelled },
    login: { refuse: 'INVALID_TRANSITION', message: 'the account failed; nobody can sign in' },
    suspend: stale,
    reinstate: stale,
    fail: repeat,
    updateEntitlements: same(EventType.entitlementsUpdated),
    rotateCredentials: { refuse: 'INVALID_TRANSITION', message: 'the account failed' },
    updateMetadata: same()
  }
}

export type Transition =
  | { kind: 'changed', next: MachineState, events: LifecycleEvent[] }
  | { kind: 'unchanged', reason: 'repeat' | 'stale' }
  | { kind: 'refused', error: MarketgateError }

const emptyState = (): MachineState => ({ status: 'pending', plan: null, entitlements: [], metadata: {}, customerAccountId: null })

/**
 * The whole lifecycle as one pure function: given the current state (undefined when the
 * account does not exist yet) and a command, the next state and the events that happened,
 * or that nothing changes, or a typed refusal. Reads no clock: times are the store's.
 */
export function transition (state: MachineState | undefined, command: Command): Transition {
  const rule = transitionTable[state?.status ?? 'absent'][command.type]
  if ('refuse' in rule) return { kind: 'refused', error: new MarketgateError(rule.refuse, rule.message) }
  if ('stale' in rule) return { kind: 'unchanged', reason: 'stale' }

  const before = state ?? emptyState()
  const next: MachineState = { ...before, metadata: mergeFacts(before.metadata, command) }
  if ('customerAccountId' in command && command.customerAccountId) next.customerAccountId = command.customerAccountId
  const events: LifecycleEvent[] = []

  if (!('repeat' in rule)) {
    if (rule.to !== 'same') next.status = rule.to
    applyCommand(before, next, command, events, state === undefined)
    if (rule.event !== undefined) events.unshift(eventFor(rule.event, before, next, command))
    // A plan change to the current plan, or entitlements that did not move, is a repeat.
    if ((command.type === 'changePlan' || command.type === 'updateEntitlements') && state !== undefined &&
        next.plan === before.plan && sameEntitlements(next.entitlements, before.entitlements)) {
      events.length = 0
    }
    if (command.type === 'updateMetadata') events.length = 0
  }

  const factsChanged = !sameJson(next.metadata, before.metadata) || next.customerAccountId !== before.customerAccountId
  if (state !== undefined && events.length === 0 && next.status === before.status && !factsChanged &&
      next.plan === before.plan) {
    return { kind: 'unchanged', reason: 'repeat' }
  }
  return { kind: 'changed', next, events }
}

function applyCommand (before: MachineState, next: MachineState, command: Command, events: LifecycleEvent[], creating: boolean): void {
  switch (command.type) {
    case 'pending':
    case 'provision':
      if (command.plan !== undefined && command.plan !== null) next.plan = command.plan
      break
    case 'changePlan':
      next.plan = command.plan
      break
    case 'updateEntitlements':
      next.entitlements = command.entitlements
      if (command.plan !== undefined && command.plan !== null) next.plan = command.plan
      // A new account hears `pending` (the table's event) then its entitlements; an existing
      // one hears its entitlements (the table's event) then, when the plan moved, the change.
      if (creating) events.push(eventFor(EventType.entitlementsUpdated, before, next, command))
      else if (next.plan !== before.plan) events.push(eventFor(EventType.planChanged, before, next, command))
      break
    default:
      break
  }
}

function eventFor (type: EventType, before: MachineState, next: MachineState, command: Command): LifecycleEvent {
  switch (type) {
    case EventType.planChanged:
      return { type, data: { previous_plan: before.plan, plan: next.plan } }
    case EventType.cancelled:
      return { type, data: { previous_status: before.status, reason: reasonOf(command) } }
    case EventType.suspended:
      return { type, data: { reason: reasonOf(command) } }
    case EventType.failed:
      return { type, data: { reason: reasonOf(command) } }
    case EventType.login:
      if (command.type !== 'login') break
      return {
        type,
        data: { user: { email: command.user.email ?? null, id: command.user.userId ?? null }, app: command.user.app ?? null, source: command.user.source }
      }
    case EventType.entitlementsUpdated:
      return { type, data: { entitlements: next.entitlements, previous_entitlements: before.entitlements } }
    default:
      break
  }
  return { type, data: {} }
}

function reasonOf (command: Command): string | null {
  return 'reason' in command && typeof command.reason === 'string' ? command.reason : null
}

function mergeFacts (metadata: Record<string, unknown>, command: Command): Record<string, unknown> {
  if (!('metadata' in command) || command.metadata === undefined) return metadata
  return { ...metadata, ...command.metadata }
}

function sameEntitlements (a: Entitlement[], b: Entitlement[]): boolean {
  return sameJson(a, b)
}

function sameJson (a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))
}

function canonical (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
  }
  return value
}
