import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { Histogram, type Registry } from 'prom-client'
import type { Clock, HookAskOptions, HookDecision, HookQuestion, VendorHook } from '../../core/index.js'
import { counterOn } from '../http/metrics.js'
import { decisionOf } from './hook.answer.js'
import type { HookHttp } from './hook.http.js'
import { questionIdOf, signedQuestion } from './hook.request.js'
import type { HookDecisionStore } from './hook-decision.store.js'

export interface HookSettings {
  url: string
  /** `whsec_…`: signs every ask; never logged. */
  secret: string
  timeoutMs: number
}

export interface HookClientDeps {
  settings: HookSettings
  http: HookHttp
  decisions: HookDecisionStore
  clock: Clock
  log: Logger
  metrics: Registry
  /** Milliseconds, monotonic (tests pass a fake). */
  elapsed?: () => number
}

/**
 * The vendor's hook (contract §7) as the VendorHook port: a signed POST, the answer read
 * under one deadline (the hook's, or the caller's shorter one), every decision recorded,
 * counted, timed and, when it is not an allow, logged with its message or reason — never
 * with config values or the signature.
 */
export function createVendorHook (deps: HookClientDeps): VendorHook {
  const { settings, http, decisions, clock, log } = deps
  const now = deps.elapsed ?? (() => performance.now())
  const total = counterOn(deps.metrics, 'marketgate_hook_decisions_total', 'Decisions of the vendor hook by question type and outcome', ['type', 'outcome'])
  const duration = (deps.metrics.getSingleMetric('marketgate_hook_duration_seconds') as Histogram<'type'> | undefined) ?? new Histogram({
    name: 'marketgate_hook_duration_seconds',
    help: 'Time the vendor hook took to decide (or not), by question type',
    labelNames: ['type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25],
    registers: [deps.metrics]
  })

  async function ask (question: HookQuestion, id: string, ms: number, options: HookAskOptions): Promise<{ decision: HookDecision, status: number | null }> {
    const { headers, body } = signedQuestion(question, id, clock.now(), settings.secret)
    const res = await http.post(settings.url, headers, body, ms)
    if (!res.ok) return { decision: { outcome: 'undecided', reason: res.reason }, status: res.status }
    let decision = decisionOf(res.status, res.body)
    if (decision.outcome === 'allowed' && options.checkConfig !== undefined) {
      const wrong = options.checkConfig(decision.config)
      if (wrong !== undefined) decision = { outcome: 'undecided', reason: wrong }
    }
    return { decision, status: res.status }
  }

  return {
    questionId: questionIdOf,

    async decide (question, options = {}) {
      const id = questionIdOf(question)
      // Once refused, a question stays refused: the marketplace's retries are not asked again.
      const before = await decisions.refusal(id)
      if (before !== undefined) return { outcome: 'refused', message: before.message }
      const ms = Math.min(settings.timeoutMs, options.deadlineMs ?? settings.timeoutMs)
      const started = now()
      const { decision, status } = await ask(question, id, ms, options)
      const durationMs = now() - started
      const message = decision.outcome === 'undecided' ? decision.reason : decision.message ?? null
      await decisions.record({
        questionId: id, product: question.product, marketplace: question.marketplace, externalId: question.externalId, type: question.type,
        plan: question.plan, outcome: decision.outcome, message, statusCode: status, durationMs
      })
      total.inc({ type: question.type, outcome: decision.outcome })
      duration.observe({ type: question.type }, durationMs / 1000)
      const facts = { hook_question: id, type: question.type, product: question.product, marketplace: question.marketplace, external_id: question.externalId, status_code: status, duration_ms: Math.round(durationMs) }
      if (decision.outcome === 'refused') log.info({ ...facts, message: decision.message }, 'the vendor hook refused')
      else if (decision.outcome === 'undecided') log.warn({ ...facts, reason: decision.reason }, 'the vendor hook did not decide')
      return decision
    }
  }
}
