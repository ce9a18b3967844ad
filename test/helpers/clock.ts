import type { Clock } from '../../core/index.js'

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  #now: number
  constructor (start: Date | string = '2026-11-27T10:00:00.000Z') {
    this.#now = new Date(start).getTime()
  }

  now (): Date { return new Date(this.#now) }
  advance (ms: number): void { this.#now += ms }
  set (at: Date | string): void { this.#now = new Date(at).getTime() }
}
