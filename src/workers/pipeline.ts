import { abortableSleep, createFailureBackoff, type Sleep } from './backoff.js'
import { createLoop, type Loop } from './idle.js'

export interface PipelineOptions<C, R> {
  /** Most items being worked at once; as many finished ones may wait to be recorded. */
  capacity: number
  pollMs: number
  /** Claims up to `limit` items (leased in the database). */
  claim(limit: number): Promise<C[]>
  /** Works one item; a rejection leaves it unrecorded (its lease runs out and it comes back). */
  work(item: C): Promise<R>
  /** Records the results that finished since the last call, together. */
  record(results: R[]): Promise<void>
  /** Groups being recorded at once (default 4): a group's write does not hold up the next. */
  recorders?: number
  /** For a failed claim, `streak` counts the failures in a row and `retryInMs` is the wait before the next. */
  onError(err: unknown, stage: 'claim' | 'work' | 'record', streak?: { streak: number, retryInMs: number }): void
  /** Claiming succeeded again after `failures` failed claims. */
  onRecovered?(failures: number): void
  /** A number in [0, 1) for the claim backoff's jitter (default Math.random). */
  random?: () => number
  sleep?: Sleep
}

/**
 * A claiming worker that keeps up to `capacity` items in flight without rounds: it claims
 * again as soon as half of them have finished (while fewer than `capacity` results wait to be
 * recorded), and records results in groups as they finish
 * (what finished in one turn of the event loop goes together; when `recorders` groups are
 * already being written, the next group waits and grows). A slow item therefore holds one
 * slot, not a whole batch, and a busy worker writes a few large groups instead of one row at
 * a time. Waiting is the polling idle: the poll interval, a wake-up (NOTIFY), or a slot
 * coming free.
 */
export function createPipeline<C, R> (options: PipelineOptions<C, R>): Loop {
  const { capacity } = options
  const finished: R[] = []
  const pending = new Set<Promise<void>>()
  /** Attempts running, and results not yet recorded. */
  let working = 0
  let unrecorded = 0
  const recording = new Set<Promise<void>>()
  const recorders = options.recorders ?? 4
  let flushQueued = false
  // A failed claim (the database away) waits longer each time, not one poll interval.
  const backoff = createFailureBackoff(options.random ?? Math.random)
  const sleep = options.sleep ?? abortableSleep

  function flush (): void {
    if (recording.size >= recorders || finished.length === 0) return
    const group = finished.splice(0)
    const write: Promise<void> = options.record(group)
      .catch((err: unknown) => options.onError(err, 'record'))
      .finally(() => {
        unrecorded -= group.length
        recording.delete(write)
        flush()
        wake()
      })
    recording.add(write)
  }

  // Results of one turn of the event loop (responses read in the same I/O phase) go together.
  function queueFlush (): void {
    if (flushQueued) return
    flushQueued = true
    setImmediate(() => { flushQueued = false; flush() })
  }

  function begin (item: C): void {
    working++
    const done = options.work(item).then(
      (result) => { working--; unrecorded++; finished.push(result); queueFlush(); wake() },
      (err: unknown) => { working--; options.onError(err, 'work'); wake() }
    )
    pending.add(done)
    void done.finally(() => pending.delete(done))
  }

  const loop = createLoop(options.pollMs, async (signal, idle) => {
    while (!signal.aborted) {
      // A slot frees when its attempt ends; results waiting to be recorded are bounded apart
      // (another `capacity`), so a slow database slows claiming instead of piling up results.
      const free = capacity - working
      let full = false
      if ((free >= Math.ceil(capacity / 2) || working === 0) && unrecorded < capacity) {
        try {
          const items = await options.claim(free)
          const ended = backoff.succeeded()
          if (ended > 0) options.onRecovered?.(ended)
          for (const item of items) begin(item)
          full = items.length === free
        } catch (err) {
          const retryInMs = backoff.failed()
          options.onError(err, 'claim', { streak: backoff.streak, retryInMs })
          await sleep(retryInMs, signal)
          continue
        }
      }
      if (!full && !signal.aborted) await idle(signal)
    }
    // Stopped: claim nothing more, let what is in flight finish and be recorded.
    while (pending.size > 0 || recording.size > 0 || finished.length > 0) {
      await Promise.all([...pending])
      flush()
      await Promise.all([...recording])
    }
  })
  // Declared after the loop it belongs to; the functions above call it only once started.
  const { wake } = loop
  return loop
}
