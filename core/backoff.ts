/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed, half random, so
 * retries never bunch up yet never come back sooner than half the step. `random01` is an
 * injected number in [0, 1) so tests can pin it.
 */
export function equalJitterBackoff (attempt: number, policy: { baseMs: number, capMs: number }, random01: number): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(step / 2 + (step / 2) * random01)
}
