import type { HookDecision } from '../../core/index.js'

/** A hook's answer may be at most this long (contract §7); a longer one is undecided. */
export const maxAnswerBytes = 64 * 1024
/** Messages go to the marketplace and the log: long enough for a sentence, never a page. */
const maxMessage = 1000

const text = (v: unknown): string | undefined => typeof v === 'string' && v.trim() !== '' ? v.slice(0, maxMessage) : undefined

function messageOf (body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body)
    return typeof parsed === 'object' && parsed !== null ? text((parsed as { message?: unknown }).message) : undefined
  } catch {
    return undefined
  }
}

/**
 * The decision an HTTP answer carries (contract §7): 2xx with a boolean `allow`, or a 4xx
 * (a refusal, its `{message}` or a generic one). Everything else decides nothing: 3xx (never
 * followed), 5xx, a body that is not JSON, a 2xx without a boolean `allow`, config values
 * that are not strings. Reasons name what was wrong, never a config value.
 */
export function decisionOf (status: number, body: string): HookDecision {
  if (status >= 400 && status < 500) return { outcome: 'refused', message: messageOf(body) ?? `the vendor refused (HTTP ${status})` }
  if (status >= 300 && status < 400) return { outcome: 'undecided', reason: `the hook answered HTTP ${status} (redirects are not followed)` }
  if (status < 200 || status >= 300) return { outcome: 'undecided', reason: `the hook answered HTTP ${status}` }
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return { outcome: 'undecided', reason: 'the hook answered a body that is not JSON' }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { outcome: 'undecided', reason: 'the hook answered JSON that is not an object' }
  const answer = parsed as Record<string, unknown>
  if (typeof answer.allow !== 'boolean') return { outcome: 'undecided', reason: 'the hook answered without a boolean "allow"' }
  if (!answer.allow) return { outcome: 'refused', message: text(answer.message) ?? 'the vendor refused' }
  const config: Record<string, string> = {}
  if (answer.config !== undefined && answer.config !== null) {
    if (typeof answer.config !== 'object' || Array.isArray(answer.config)) return { outcome: 'undecided', reason: 'the hook answered a "config" that is not an object' }
    for (const [name, value] of Object.entries(answer.config)) {
      if (typeof value !== 'string') return { outcome: 'undecided', reason: `the hook answered config "${name.slice(0, 100)}" that is not a string` }
      config[name] = value
    }
  }
  const decision: HookDecision = { outcome: 'allowed', config }
  if (answer.log_drain_url !== undefined && answer.log_drain_url !== null) {
    if (typeof answer.log_drain_url !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(answer.log_drain_url)) {
      return { outcome: 'undecided', reason: 'the hook answered a "log_drain_url" that is not a URL' }
    }
    decision.logDrainUrl = answer.log_drain_url
  }
  const message = text(answer.message)
  if (message !== undefined) decision.message = message
  return decision
}
