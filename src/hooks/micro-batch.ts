/**
 * Calls made in the same turn of the event loop, run as one: `run` gets every input and
 * returns one result per input, in order. On the embedded engine (one connection) each
 * statement costs a round trip that every request waits behind, so a provision's two hook
 * statements (the refusal lookup, the decision record) cost one each per burst, not per request.
 */
export function microBatch<I, O> (run: (inputs: I[]) => Promise<O[]>): (input: I) => Promise<O> {
  let pending: Array<{ input: I, resolve: (o: O) => void, reject: (e: unknown) => void }> = []
  function flush (): void {
    const batch = pending
    pending = []
    run(batch.map((p) => p.input)).then(
      (outs) => { batch.forEach((p, i) => p.resolve(outs[i]!)) },
      (err: unknown) => { for (const p of batch) p.reject(err) })
  }
  return (input) => new Promise<O>((resolve, reject) => {
    if (pending.length === 0) setImmediate(flush)
    pending.push({ input, resolve, reject })
  })
}
