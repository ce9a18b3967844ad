import { setTimeout as sleep } from 'node:timers/promises'

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
      if (woken) { woken = false; return }
      const woke = new Promise<void>((resolve) => { wakeUp = resolve })
      await Promise.race([woke, sleep(pollMs, undefined, { signal }).catch(() => {})])
      wakeUp = undefined
      woken = false
    }
  }
}
