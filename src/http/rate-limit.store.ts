import type { Clock } from '../../core/index.js'

interface Entry { current: number, startMs: number }
type Callback = (error: Error | null, result?: { current: number, ttl: number }) => void

/** Addresses remembered at most; past it the oldest window is forgotten first (a flood of fresh addresses cannot grow memory). */
const maxEntries = 10_000

/**
 * A fixed-window store for @fastify/rate-limit on the injected clock: the plugin's LocalStore
 * reads Date.now(), so tests could only move its windows by sleeping. Same contract:
 * `incr` counts and `read` peeks without changing anything.
 */
export class ClockStore {
  readonly #clock: Clock
  readonly #entries = new Map<string, Entry>()

  constructor (clock: Clock) { this.#clock = clock }

  /** The constructor the plugin's `store` option wants (it calls `new Store(options)`). */
  static using (clock: Clock) {
    return class extends ClockStore { constructor () { super(clock) } }
  }

  incr (key: string, cb: Callback, timeWindow: number): void {
    const now = this.#clock.now().getTime()
    let entry = this.#entries.get(key)
    if (entry === undefined || entry.startMs + timeWindow <= now) {
      entry = { current: 0, startMs: now }
      this.#entries.delete(key)
      if (this.#entries.size >= maxEntries) this.#entries.delete(this.#entries.keys().next().value!)
      this.#entries.set(key, entry)
    }
    entry.current++
    cb(null, { current: entry.current, ttl: entry.startMs + timeWindow - now })
  }

  read (key: string, cb: Callback, timeWindow: number): void {
    const now = this.#clock.now().getTime()
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.startMs + timeWindow <= now) return cb(null, { current: 0, ttl: 0 })
    cb(null, { current: entry.current, ttl: entry.startMs + timeWindow - now })
  }

  /** One store for every limiter: keys carry their scope already. */
  child (): ClockStore { return this }
}
