import { setTimeout as sleep } from 'node:timers/promises'
import { abortableSleep, createFailureBackoff, type Sleep } from './backoff.js'

/**
 * How a polling worker waits between rounds: until its poll interval passes, or until
 * something wakes it (a NOTIFY, a commit in this process), or until it is stopped.
 * A wake that arrives while the worker is busy is remembered, so it is never lost.
 */
export function createIdle (pollMs: number): { idle(signal: AbortSignal): Promise<void>, wake(): void } {
  let wakeUp: (() => void) | undefined
  let woken = false
  return {
    wake () { woken = true; wakeUp?.() },
    async idle (signal) {
      if (woken || signal.aborted) { woken = false; return }
      // The poll timer of this wait only: a wake-up cancels it, so a busy worker woken many
      // times a second does not leave a timer (and a listener on `signal`) behind each time.
      const timer = new AbortController()
      const stop = () => timer.abort()
      signal.addEventListener('abort', stop, { once: true })
      const woke = new Promise<void>((resolve) => { wakeUp = resolve })
      await Promise.race([woke, sleep(pollMs, undefined, { signal: timer.signal }).catch(() => {})])
      timer.abort()
      signal.removeEventListener('abort', stop)
      wakeUp = undefined
      woken = false
    }
  }
}

/** A background loop's controls: `start` once, `stop` (safe twice) ends it, `wake` ends a wait early. */
export interface Loop { start(): boolean, stop(): Promise<void>, wake(): void }

/**
 * Runs `body` once started, until stopped: `body` loops while `signal` is not aborted and
 * waits with `idle`. `stop` aborts the signal, wakes a waiting body and resolves once the body
 * has returned (what it finishes on the way out is its own business).
 */
export function createLoop (pollMs: number, body: (signal: AbortSignal, idle: (signal: AbortSignal) => Promise<void>) => Promise<void>): Loop {
  const { idle, wake } = createIdle(pollMs)
  const controller = new AbortController()
  let loop: Promise<void> | undefined
  let stopping: Promise<void> | undefined
  return {
    wake,
    start () {
      if (loop !== undefined || stopping !== undefined) return false
      loop = body(controller.signal, idle)
      return true
    },
    stop () {
      stopping ??= (async () => {
        controller.abort()
        wake()
        await loop
      })()
      return stopping
    }
  }
}

/**
 * The loop every claiming worker runs: claim a round; when it came back short of a full
 * batch, wait (poll interval or wake-up). A failed round is reported and retried after a
 * backoff that grows with the streak of failures (capped, jittered; a wake-up does not cut
 * it short, so a NOTIFY storm cannot turn an outage into a query storm) and starts over once
 * a round succeeds. `stop` ends the loop after the round in flight; calling it twice is safe.
 */
export function createPollingLoop (options: {
  pollMs: number
  batchSize: number
  runOnce: () => Promise<number>
  /** `streak`: failures in a row so far (1 for the first); `retryInMs`: the wait before the next round. */
  onError: (err: unknown, streak: number, retryInMs: number) => void
  /** A round succeeded after `failures` failed ones. */
  onRecovered?: (failures: number) => void
  /** A number in [0, 1) for the backoff's jitter (default Math.random). */
  random?: () => number
  sleep?: Sleep
}): Loop {
  const backoff = createFailureBackoff(options.random ?? Math.random)
  const sleep = options.sleep ?? abortableSleep
  return createLoop(options.pollMs, async (signal, idle) => {
    while (!signal.aborted) {
      let n = 0
      try {
        n = await options.runOnce()
        const ended = backoff.succeeded()
        if (ended > 0) options.onRecovered?.(ended)
      } catch (err) {
        const wait = backoff.failed()
        options.onError(err, backoff.streak, wait)
        await sleep(wait, signal)
        continue
      }
      if (n < options.batchSize && !signal.aborted) await idle(signal)
    }
  })
}
