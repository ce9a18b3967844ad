/**
 * Group commit for new accounts: creates that arrive in the same turn of the event loop, or
 * while `maxInFlight` batches are already being written, go to the database together as one
 * statement. Under load, 32 concurrent provisions become a few statements instead of 32:
 * the per-statement cost (round trip, planning, commit and its WAL flush) is shared, which is
 * most of what a provision costs the database. An idle gateway writes each create at once,
 * alone, so nothing waits for company.
 *
 * A batch is atomic, so one bad item would fail its neighbours: when a batch of several
 * fails with an error one item may cause, each item is written again alone, one after
 * another, and only the bad one fails.
 */
export function createBatcher<I, R> (options: {
  write: (items: I[]) => Promise<R[]>
  maxBatch?: number
  maxInFlight?: number
  /**
   * Whether an error could come from one item of the batch (then each is written again
   * alone); otherwise (a lost connection, say) the whole batch fails with it. Default: always.
   */
  oneItemMayCause?: (err: unknown) => boolean
}): (item: I) => Promise<R> {
  const maxBatch = options.maxBatch ?? 64
  const maxInFlight = options.maxInFlight ?? 4
  const queue: Array<{ item: I, resolve: (r: R) => void, reject: (err: unknown) => void }> = []
  let inFlight = 0
  let scheduled = false

  async function write (batch: typeof queue): Promise<void> {
    try {
      const results = await options.write(batch.map((b) => b.item))
      batch.forEach((b, i) => b.resolve(results[i]!))
    } catch (err) {
      if (batch.length === 1 || !(options.oneItemMayCause ?? (() => true))(err)) {
        for (const b of batch) b.reject(err)
        return
      }
      // One after another, in this batch's slot: retries never take more connections.
      for (const b of batch) await write([b])
    }
  }

  function flush (): void {
    scheduled = false
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch)
      inFlight++
      void write(batch).finally(() => {
        inFlight--
        flush()
      })
    }
  }

  return (item) => new Promise<R>((resolve, reject) => {
    queue.push({ item, resolve, reject })
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  })
}
