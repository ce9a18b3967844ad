import t from 'tap'
import { accountStatuses, commandTypes, transition, type Command, type CommandType, type MachineState } from '../../core/index.js'

const sample: Record<CommandType, Command> = {
  pending: { type: 'pending', plan: 'basic' },
  provision: { type: 'provision', plan: 'basic' },
  activate: { type: 'activate' },
  changePlan: { type: 'changePlan', plan: 'pro' },
  cancel: { type: 'cancel' },
  login: { type: 'login', user: { email: 'a@b.c', source: 'test' } },
  suspend: { type: 'suspend' },
  reinstate: { type: 'reinstate' },
  fail: { type: 'fail', reason: 'payment' },
  updateEntitlements: { type: 'updateEntitlements', entitlements: [{ dimension: 'seats', value: 5 }], plan: 'seats' },
  rotateCredentials: { type: 'rotateCredentials' },
  updateMetadata: { type: 'updateMetadata', metadata: { app: 'x' } }
}

// Expected outcome for every (status, command): `->status:event,event`, `repeat`, `stale`,
// `refuse:CODE`, or `meta` (row changes, no event). Written out by hand, independent of the table.
const expected: Record<string, Record<CommandType, string>> = {
  absent: {
    pending: '->pending:account.pending', provision: '->active:account.provisioned', activate: '->active:account.provisioned',
    changePlan: 'refuse:NOT_FOUND', cancel: '->cancelled:account.cancelled', login: 'refuse:NOT_FOUND',
    suspend: '->suspended:account.suspended', reinstate: 'refuse:NOT_FOUND', fail: '->failed:account.failed',
    updateEntitlements: '->pending:account.pending,account.entitlements_updated', rotateCredentials: 'refuse:NOT_FOUND', updateMetadata: 'refuse:NOT_FOUND'
  },
  pending: {
    pending: 'repeat', provision: '->active:account.provisioned', activate: '->active:account.provisioned',
    changePlan: '->pending:account.plan_changed', cancel: '->cancelled:account.cancelled', login: '->pending:account.login',
    suspend: '->suspended:account.suspended', reinstate: 'stale', fail: '->failed:account.failed',
    updateEntitlements: '->pending:account.entitlements_updated,account.plan_changed', rotateCredentials: '->pending:account.credentials_rotated', updateMetadata: 'meta'
  },
  active: {
    pending: 'repeat', provision: 'repeat', activate: 'repeat', changePlan: '->active:account.plan_changed',
    cancel: '->cancelled:account.cancelled', login: '->active:account.login', suspend: '->suspended:account.suspended',
    reinstate: 'repeat', fail: 'stale', updateEntitlements: '->active:account.entitlements_updated,account.plan_changed',
    rotateCredentials: '->active:account.credentials_rotated', updateMetadata: 'meta'
  },
  suspended: {
    pending: 'repeat', provision: 'repeat', activate: 'stale', changePlan: '->suspended:account.plan_changed',
    cancel: '->cancelled:account.cancelled', login: '->suspended:account.login', suspend: 'repeat',
    reinstate: '->active:account.reinstated', fail: 'stale', updateEntitlements: '->suspended:account.entitlements_updated,account.plan_changed',
    rotateCredentials: '->suspended:account.credentials_rotated', updateMetadata: 'meta'
  },
  cancelled: {
    pending: 'stale', provision: 'refuse:GONE', activate: 'stale', changePlan: 'refuse:GONE', cancel: 'repeat',
    login: 'refuse:GONE', suspend: 'stale', reinstate: 'refuse:GONE', fail: 'stale', updateEntitlements: 'stale',
    rotateCredentials: 'refuse:GONE', updateMetadata: 'meta'
  },
  failed: {
    pending: 'repeat', provision: '->active:account.provisioned', activate: '->active:account.provisioned',
    changePlan: 'refuse:INVALID_TRANSITION', cancel: '->cancelled:account.cancelled', login: 'refuse:INVALID_TRANSITION',
    suspend: 'stale', reinstate: 'stale', fail: 'repeat', updateEntitlements: '->failed:account.entitlements_updated,account.plan_changed',
    rotateCredentials: 'refuse:INVALID_TRANSITION', updateMetadata: 'meta'
  }
}

function stateOf (status: string): MachineState | undefined {
  if (status === 'absent') return undefined
  return { status: status as MachineState['status'], plan: 'basic', entitlements: [], metadata: {}, customerAccountId: null }
}

function describe (state: MachineState | undefined, command: Command): string {
  const r = transition(state, command)
  if (r.kind === 'refused') return `refuse:${r.error.code}`
  if (r.kind === 'unchanged') return r.reason
  if (r.events.length === 0) return 'meta'
  return `->${r.next.status}:${r.events.map((e) => e.type).join(',')}`
}

t.test('every (status, command) pair does what the lifecycle says', async (t) => {
  for (const status of ['absent', ...accountStatuses]) {
    for (const type of commandTypes) {
      t.equal(describe(stateOf(status), sample[type]), expected[status]![type], `${status} + ${type}`)
    }
  }
})

t.test('a plan change to the current plan is a repeat', async (t) => {
  t.equal(describe(stateOf('active'), { type: 'changePlan', plan: 'basic' }), 'repeat')
})

t.test('a plan change names the previous plan', async (t) => {
  const r = transition(stateOf('active'), { type: 'changePlan', plan: 'pro' })
  t.equal(r.kind, 'changed')
  if (r.kind === 'changed') t.same(r.events[0]!.data, { previous_plan: 'basic', plan: 'pro' })
})

t.test('entitlements that did not move are a repeat; new ones without a plan move emit one event', async (t) => {
  const state: MachineState = { ...stateOf('active')!, plan: 'seats', entitlements: [{ dimension: 'seats', value: 5 }] }
  t.equal(describe(state, { type: 'updateEntitlements', entitlements: [{ value: 5, dimension: 'seats' }], plan: 'seats' }), 'repeat')
  t.equal(describe(state, { type: 'updateEntitlements', entitlements: [{ dimension: 'seats', value: 9 }], plan: 'seats' }), '->active:account.entitlements_updated')
})

t.test('facts merge into metadata without an event, and the same facts again are a repeat', async (t) => {
  const r = transition(stateOf('active'), { type: 'updateMetadata', metadata: { app: 'x' } })
  t.equal(r.kind, 'changed')
  if (r.kind !== 'changed') return
  t.same(r.next.metadata, { app: 'x' })
  t.equal(describe(r.next, { type: 'updateMetadata', metadata: { app: 'x' } }), 'repeat')
})

t.test('a login carries who signed in', async (t) => {
  const r = transition(stateOf('active'), { type: 'login', user: { email: 'e@x.io', userId: 'u1', app: 'my-app', source: 'heroku' } })
  t.equal(r.kind, 'changed')
  if (r.kind === 'changed') t.same(r.events[0]!.data, { user: { email: 'e@x.io', id: 'u1' }, app: 'my-app', source: 'heroku' })
})
