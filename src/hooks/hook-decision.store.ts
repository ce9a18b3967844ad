import type { ColumnType, Kysely, Selectable } from 'kysely'
import type { Clock, HookOutcome, Marketplace, Page, Random } from '../../core/index.js'
import { pageOf } from '../storage/cursor.js'
import { microBatch } from './micro-batch.js'
import type { Database } from '../storage/tables.js'

type Timestamp = ColumnType<Date, Date | string, Date | string>

export interface HookDecisionTable {
  id: string
  question_id: string
  product: string
  marketplace: string
  external_id: string
  type: string
  plan: string | null
  outcome: string
  message: string | null
  status_code: number | null
  duration_ms: number
  decided_at: Timestamp
}

// The table is this feature's own: typed here, beside its store, rather than in the shared Database.
type HookDb = Kysely<Database & { hook_decisions: HookDecisionTable }>
export type HookDecisionRow = Selectable<HookDecisionTable>

export interface HookDecisionRecord {
  questionId: string
  product: string
  marketplace: Marketplace
  externalId: string
  type: string
  plan: string | null
  outcome: HookOutcome
  /** The vendor's message, or the reason there was no decision. Never config values. */
  message: string | null
  statusCode: number | null
  durationMs: number
}

export interface HookDecisionFilter {
  product?: string
  marketplace?: string
  externalId?: string
  outcome?: HookOutcome
}

/** The record of every hook decision (one row per ask), and the lookup that spares asking twice. */
export function createHookDecisionStore (deps: { db: Kysely<Database>, clock: Clock, random: Random }) {
  const db = deps.db.withTables<{ hook_decisions: HookDecisionTable }>() as HookDb

  const record = microBatch(async (records: HookDecisionRecord[]) => {
    await db.insertInto('hook_decisions').values(records.map((r) => ({
      id: deps.random.uuid(), question_id: r.questionId, product: r.product, marketplace: r.marketplace, external_id: r.externalId,
      type: r.type, plan: r.plan, outcome: r.outcome, message: r.message, status_code: r.statusCode,
      duration_ms: Math.round(r.durationMs), decided_at: deps.clock.now()
    }))).execute()
    return records.map(() => undefined)
  })

  const refusal = microBatch(async (ids: string[]) => {
    const rows = await db.selectFrom('hook_decisions').select(['question_id', 'message'])
      .where('question_id', 'in', [...new Set(ids)]).where('outcome', '=', 'refused').orderBy('id').execute()
    // The latest refusal of each question (rows are oldest first).
    const found = new Map(rows.map((r) => [r.question_id, { message: r.message ?? '' }]))
    return ids.map((id) => found.get(id))
  })

  return {
    /** Records one decision (written with the others of the same moment, in one statement). */
    record: (r: HookDecisionRecord): Promise<void> => record(r),

    /** The refusal recorded for this question, if the vendor refused it before. */
    refusal: (questionId: string): Promise<{ message: string } | undefined> => refusal(questionId),

    /** Oldest first, after the cursor's id. */
    async list (filter: HookDecisionFilter, page: { limit: number, after?: string }): Promise<Page<HookDecisionRow>> {
      let q = db.selectFrom('hook_decisions').selectAll().orderBy('id').limit(page.limit + 1)
      if (filter.product !== undefined) q = q.where('product', '=', filter.product)
      if (filter.marketplace !== undefined) q = q.where('marketplace', '=', filter.marketplace)
      if (filter.externalId !== undefined) q = q.where('external_id', '=', filter.externalId)
      if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome)
      if (page.after !== undefined) q = q.where('id', '>', page.after)
      return pageOf(await q.execute(), page.limit)
    }
  }
}

export type HookDecisionStore = ReturnType<typeof createHookDecisionStore>
