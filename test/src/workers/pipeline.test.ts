import t from 'tap'
import { setImmediate as turn } from 'node:timers/promises'
import { createPipeline } from '../../../src/workers/pipeline.js'

/** A promise the test settles by hand. */
function deferred<T> () {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** Lets every queued callback run (no timers: the poll interval is an hour). */
async function settle (): Promise<void> { for (let i = 0; i < 20; i++) await turn() }

function fixture (capacity: number, backlog: number[], recorders?: number) {
  const claims: number[] = []
  const groups: number[][] = []
  const errors: string[] = []
  const work = new Map<number, ReturnType<typeof deferred<number>>>()
  let recordGate: ReturnType<typeof deferred<void>> | undefined
  const pipeline = createPipeline<number, number>({
    capacity,
    pollMs: 3_600_000,
    ...(recorders === undefined ? {} : { recorders }),
    async claim (limit) {
      claims.push(limit)
      return backlog.splice(0, limit)
    },
    work (item) {
      const d = deferred<number>()
      work.set(item, d)
      return d.promise
    },
    async record (results) {
      groups.push([...results].sort((a, b) => a - b))
      if (recordGate) await recordGate.promise
    },
    onError: (err, stage) => { errors.push(`${stage}: ${(err as Error).message}`) }
  })
  return {
    pipeline, claims, groups, errors, work,
    finish: (item: number) => work.get(item)!.resolve(item),
    fail: (item: number) => work.get(item)!.reject(new Error(`item ${item} broke`)),
    holdRecording: () => { recordGate = deferred<void>(); return recordGate }
  }
}

t.test('a slow item holds one slot: the others are recorded and more are claimed meanwhile', async (t) => {
  const f = fixture(4, [1, 2, 3, 4, 5, 6, 7, 8])
  f.pipeline.start()
  await settle()
  t.same(f.claims, [4], 'claims its capacity')
  f.finish(2); f.finish(3)
  await settle()
  t.same(f.groups, [[2, 3]], 'recorded without waiting for 1 and 4')
  t.same(f.claims, [4, 2], 'half the capacity came free: claims again')
  t.ok(f.work.has(5) && f.work.has(6))
  for (const i of [4, 5, 6]) f.finish(i)
  await settle()
  t.same(f.claims.slice(0, 3), [4, 2, 3])
  for (const i of [1, 7, 8]) f.finish(i)
  await settle()
  t.same(f.groups.flat().sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8], 'every item recorded once')
  await f.pipeline.stop()
  t.same(f.errors, [])
})

t.test('with every recorder busy, what finishes meanwhile goes into the next group, together', async (t) => {
  const f = fixture(8, [1, 2, 3, 4], 1)
  const gate = f.holdRecording()
  f.pipeline.start()
  await settle()
  f.finish(1)
  await settle()
  f.finish(2); f.finish(3); f.finish(4)
  await settle()
  t.same(f.groups, [[1]], 'the first group is still being written')
  gate.resolve()
  await settle()
  t.same(f.groups, [[1], [2, 3, 4]])
  await f.pipeline.stop()
})

t.test('groups are written side by side up to the number of recorders', async (t) => {
  const f = fixture(8, [1, 2, 3, 4], 2)
  const gate = f.holdRecording()
  f.pipeline.start()
  await settle()
  f.finish(1)
  await settle()
  f.finish(2)
  await settle()
  f.finish(3)
  await settle()
  f.finish(4)
  await settle()
  t.same(f.groups, [[1], [2]], 'two groups in flight; 3 and 4 wait for a recorder')
  gate.resolve()
  await settle()
  t.same(f.groups, [[1], [2], [3, 4]])
  await f.pipeline.stop()
})

t.test('a finished item frees its slot before it is recorded, up to a capacity of unrecorded results', async (t) => {
  const f = fixture(4, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1)
  const gate = f.holdRecording()
  f.pipeline.start()
  await settle()
  t.same(f.claims, [4])
  f.finish(1); f.finish(2)
  await settle()
  t.same(f.claims, [4, 2], 'the database is still writing 1 and 2: 5 and 6 are claimed meanwhile')
  for (const i of [3, 4, 5, 6]) f.finish(i)
  await settle()
  t.same(f.claims, [4, 2], 'six results wait to be recorded, more than the capacity: no more claims')
  gate.resolve()
  await settle()
  t.same(f.claims, [4, 2, 4], 'recorded: claiming goes on')
  t.same(f.groups, [[1, 2], [3, 4, 5, 6]])
  for (const i of [7, 8, 9, 10]) f.finish(i)
  await f.pipeline.stop()
  t.same(f.groups.flat().sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
})

t.test('a failed item frees its slot and is not recorded; stop waits for the items in flight', async (t) => {
  const f = fixture(2, [1, 2, 3])
  f.pipeline.start()
  await settle()
  f.fail(1)
  await settle()
  t.same(f.errors, ['work: item 1 broke'])
  t.same(f.claims, [2, 1], 'the freed slot is claimed again')
  const stopped = f.pipeline.stop()
  let done = false
  void stopped.then(() => { done = true })
  await settle()
  t.equal(done, false, 'items 2 and 3 are still in flight')
  f.finish(2); f.finish(3)
  await stopped
  t.same(f.groups.flat().sort(), [2, 3], 'recorded before stop returned')
  t.same(f.claims, [2, 1], 'nothing claimed after stop')
})

t.test('a failed claim is reported and retried after a growing backoff that a wake-up does not cut short', async (t) => {
  let calls = 0
  const errors: string[] = []
  const sleeps: number[] = []
  let endSleep = () => {}
  const p = createPipeline<number, number>({
    capacity: 2,
    pollMs: 3_600_000,
    async claim () { calls++; if (calls <= 2) throw new Error('db down'); return [] },
    work: async (i) => i,
    record: async () => {},
    random: () => 0.5,
    sleep: (ms) => { sleeps.push(ms); return new Promise((resolve) => { endSleep = resolve }) },
    onError: (err, stage, streak) => { errors.push(`${stage}: ${(err as Error).message} #${streak?.streak}`) }
  })
  p.start()
  await settle()
  t.same(errors, ['claim: db down #1'])
  p.wake()
  await settle()
  t.equal(calls, 1, 'a wake-up (a NOTIFY storm) does not end the backoff')
  endSleep()
  await settle()
  t.same(errors, ['claim: db down #1', 'claim: db down #2'])
  t.same(sleeps, [750, 1500], 'the wait doubles with the streak')
  endSleep()
  await settle()
  // 3, then 4: the wake-up that came during the backoff is remembered for the next idle.
  t.ok(calls >= 3, 'claims again once the wait is over')
  const stopped = p.stop()
  await stopped
})
