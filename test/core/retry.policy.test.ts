import t from 'tap'
import { boundRetryAfter, decide, disableEndpointAfter, jittered, maxAttempts, parseRetryAfter, retrySchedule, shouldDisableEndpoint, type AttemptResult } from '../../core/index.js'

const now = new Date('2026-11-27T10:00:00Z')
const at = (attempt: number, result: AttemptResult, random = 0.5) => decide({ result, attempt, now, random })
const delayOf = (d: ReturnType<typeof decide>) => (d.action === 'retry' ? d.at.getTime() - now.getTime() : -1)

t.test('the schedule is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, and the eighth failure is dead', async (t) => {
  t.same(retrySchedule.map((ms) => ms / 1000), [5, 300, 1800, 7200, 18000, 36000, 36000])
  t.equal(maxAttempts, 8)
  for (let attempt = 1; attempt < maxAttempts; attempt++) {
    t.equal(delayOf(at(attempt, { kind: 'response', status: 500 })), retrySchedule[attempt - 1], `attempt ${attempt}`)
  }
  t.same(at(8, { kind: 'timeout' }), { action: 'dead', reason: 'exhausted' })
})

t.test('jitter stays within ±20 % and follows the injected random', async (t) => {
  t.equal(jittered(10_000, 0), 8_000)
  t.equal(jittered(10_000, 0.5), 10_000)
  t.ok(jittered(10_000, 0.999999) < 12_000)
  t.ok(jittered(10_000, 0.999999) >= 11_999)
  t.equal(delayOf(at(2, { kind: 'error', message: 'ECONNREFUSED' }, 0)), 240_000)
})

t.test('2xx succeeds, 410 disables, 3xx and 4xx and timeouts retry', async (t) => {
  for (const status of [200, 201, 204, 299]) t.same(at(1, { kind: 'response', status }), { action: 'succeeded' })
  t.same(at(1, { kind: 'response', status: 410 }), { action: 'disable_endpoint', reason: 'gone' })
  for (const status of [301, 302, 400, 404, 500, 502]) t.equal(at(1, { kind: 'response', status }).action, 'retry', String(status))
  t.equal(at(3, { kind: 'timeout' }).action, 'retry')
})

t.test('Retry-After on 429 and 503 postpones within bounds; other statuses ignore it', async (t) => {
  t.equal(delayOf(at(1, { kind: 'response', status: 429, retryAfter: '120' })), 120_000)
  t.equal(delayOf(at(1, { kind: 'response', status: 503, retryAfter: new Date(now.getTime() + 90_000).toUTCString() })), 90_000)
  // Never faster than the schedule: 1 s asked, 5 min scheduled.
  t.equal(delayOf(at(2, { kind: 'response', status: 429, retryAfter: '1' })), 300_000)
  // Never later than max(2 × step, 1 h).
  t.equal(delayOf(at(1, { kind: 'response', status: 429, retryAfter: '86400' })), 3_600_000)
  t.equal(delayOf(at(6, { kind: 'response', status: 429, retryAfter: '999999' })), 72_000_000)
  t.equal(delayOf(at(1, { kind: 'response', status: 500, retryAfter: '120' })), 5_000)
  t.equal(delayOf(at(1, { kind: 'response', status: 429, retryAfter: 'soon' })), 5_000)
  t.equal(boundRetryAfter(10, 5_000), 5_000)
})

t.test('parseRetryAfter reads seconds and HTTP dates', async (t) => {
  t.equal(parseRetryAfter('30', now), 30_000)
  t.equal(parseRetryAfter(new Date(now.getTime() + 5_000).toUTCString(), now), 5_000)
  t.equal(parseRetryAfter(new Date(now.getTime() - 5_000).toUTCString(), now), 0)
  t.equal(parseRetryAfter('', now), undefined)
  t.equal(parseRetryAfter(null, now), undefined)
  t.equal(parseRetryAfter('-3', now), undefined)
})

t.test('an endpoint is disabled after 5 days of failure, not before', async (t) => {
  t.equal(shouldDisableEndpoint(null, now), false)
  t.equal(shouldDisableEndpoint(new Date(now.getTime() - disableEndpointAfter + 1), now), false)
  t.equal(shouldDisableEndpoint(new Date(now.getTime() - disableEndpointAfter), now), true)
})
