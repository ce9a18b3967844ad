import { createIdle } from './idle.js'

export interface PipelineOptions<C, R> {
  /** Most items in flight (claimed, not yet recorded) at once. */
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
  onError(err: unknown, stage: 'claim' | 'work' | 'record'): void
}

/**
 * A claiming worker that keeps up to `capacity` items in flight without rounds: it claims
 * again as soon as half its capacity is free, and records results in groups as they finish
 * (what finished in one turn of the event loop goes together; when `recorders` groups are
 * already being written, the next group waits and grows). A slow item therefore holds one
 * slot, not a whole batch, and a busy worker writes a few large groups instead of one row at
 * a time. Waiting is the polling idle: the poll
 * interval, a wake-up (NOTIFY), or a slot coming free.
 */
export function createPipeline<C, R> (options: PipelineOptions<C, R>): { start(): boolean, stop(): Promise<void>, wake(): void } {
  const { capacity } = options
  const { idle, wake } = createIdle(options.pollMs)
  const controller = new AbortController()
  const finished: R[] = []
  const working = new Set<Promise<void>>()
  let inFlight = 0
  const recording = new Set<Promise<void>>()
  const recorders = options.recorders ?? 4
  let flushQueued = false
  let loop: Promise<void> | undefined
  let stopping: Promise<void> | undefined

  function flush (): void {
    if (recording.size >= recorders || finished.length === 0) return
    const group = finished.splice(0)
    const write: Promise<void> = options.record(group)
      .catch((err: unknown) => options.onError(err, 'record'))
      .finally(() => {
        inFlight -= group.length
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
    inFlight++
    const done = options.work(item).then(
      (result) => { finished.push(result); queueFlush() },
      (err: unknown) => { inFlight--; options.onError(err, 'work'); wake() }
    )
    working.add(done)
    void done.finally(() => working.delete(done))
  }

  async function run (): Promise<void> {
    const signal = controller.signal
    while (!signal.aborted) {
      const free = capacity - inFlight
      let full = false
      if (free >= Math.ceil(capacity / 2) || inFlight === 0) {
        try {
          const items = await options.claim(free)
          for (const item of items) begin(item)
          full = items.length === free
        } catch (err) {
          options.onError(err, 'claim')
        }
      }
      if (!full && !signal.aborted) await idle(signal)
    }
    // Stopped: claim nothing more, let what is in flight finish and be recorded.
    while (working.size > 0 || recording.size > 0) {
      await Promise.all([...working])
      flush()
      await Promise.all([...recording])
    }
  }

  return {
    wake,
    start () {
      if (loop !== undefined || stopping !== undefined) return false
      loop = run()
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
