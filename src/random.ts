import { randomBytes } from 'node:crypto'
import type { Clock, Random } from '../core/index.js'

export const systemClock: Clock = { now: () => new Date() }

/**
 * Ids are UUIDv7 (RFC 9562): time-ordered, so "after this id" is a stable cursor, events of
 * one transaction keep their order, and indexes stay append-mostly. Written here rather than
 * taken from the `uuid` package because that one drops its monotonic counter when given an
 * explicit time, and our time is injected: two ids in the same (fake) millisecond must still
 * sort in creation order. rand_a (12 bits) is the counter (RFC 9562 §6.2, method 1).
 */
export function createRandom (clock: Clock = systemClock): Random {
  let lastMs = -1
  let seq = 0
  return {
    uuid () {
      let ms = clock.now().getTime()
      if (ms > lastMs) {
        lastMs = ms
        seq = randomBytes(2).readUInt16BE() & 0x3ff // start low, leave room to count up
      } else {
        ms = lastMs
        seq++
        if (seq > 0xfff) { lastMs = ++ms; seq = 0 }
      }
      const b = randomBytes(16)
      b.writeUIntBE(ms, 0, 6)
      b[6] = 0x70 | (seq >> 8)
      b[7] = seq & 0xff
      b[8] = 0x80 | (b[8]! & 0x3f)
      const h = b.toString('hex')
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    },
    bytes: (n) => new Uint8Array(randomBytes(n))
  }
}

/**
 * The smallest UUIDv7 of the millisecond `at`: ids are UUIDv7s made from the clock when their
 * row is written, so every row made since `at` has an id at or above it, and a primary key
 * walks a period of time without an index on it (recover, retention).
 */
export function uuidv7Floor (at: Date): string {
  const hex = Math.max(0, at.getTime()).toString(16).padStart(12, '0').slice(-12)
  return `${hex.slice(0, 8)}-${hex.slice(8)}-0000-0000-000000000000`
}
