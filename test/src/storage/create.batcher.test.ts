import t from 'tap'
import { setImmediate as turn } from 'node:timers/promises'
import { createBatcher } from '../../../src/storage/create.batcher.js'

/** A write the test releases by hand; it records each batch it was given. */
function gatedWrite (fail: (item: number) => boolean = () => false) {
  const batches: number[][] = []
  const gates: Array<() => void> = []
  const write = async (items: number[]) => {
    batches.push([...items])
    await new Promise<void>((resolve) => gates.push(resolve))
    if (items.some(fail)) throw new Error(`bad item in ${items.join(',')}`)
    return items.map((i) => i * 10)
  }
  const releaseAll = async () => { for (let k = 0; k < 20; k++) { while (gates.length) gates.shift()!(); await turn() } }
  return { batches, write, releaseAll }
}

t.test('creates of one turn go together; while the writers are busy the rest wait and go together next', async (t) => {
  const w = gatedWrite()
  const create = createBatcher({ write: w.write, maxInFlight: 1 })
  const first = [1, 2, 3].map(create)
  await turn()
  t.same(w.batches, [[1, 2, 3]], 'one statement for the three')
  const later = [4, 5].map(create)
  await turn()
  t.same(w.batches, [[1, 2, 3]], 'the only writer is busy: 4 and 5 wait')
  await w.releaseAll()
  t.same(await Promise.all([...first, ...later]), [10, 20, 30, 40, 50], 'each caller gets its own result')
  t.same(w.batches, [[1, 2, 3], [4, 5]])
})

t.test('batches are bounded in size, and several are written side by side', async (t) => {
  const w = gatedWrite()
  const create = createBatcher({ write: w.write, maxBatch: 2, maxInFlight: 2 })
  const all = [1, 2, 3, 4, 5].map(create)
  await turn()
  t.same(w.batches, [[1, 2], [3, 4]])
  await w.releaseAll()
  t.same(await Promise.all(all), [10, 20, 30, 40, 50])
  t.same(w.batches, [[1, 2], [3, 4], [5]])
})

t.test('a failed batch is written again item by item: only the bad item fails', async (t) => {
  const w = gatedWrite((i) => i === 2)
  const create = createBatcher({ write: w.write })
  const all = [1, 2, 3].map((i) => create(i).then((r) => `ok ${r}`, (err: Error) => `failed: ${err.message}`))
  await w.releaseAll()
  t.same(await Promise.all(all), ['ok 10', 'failed: bad item in 2', 'ok 30'])
  t.same(w.batches, [[1, 2, 3], [1], [2], [3]])
})

t.test('an error no single item can cause fails the whole batch, with no retries', async (t) => {
  const w = gatedWrite((i) => i === 2)
  const create = createBatcher({ write: w.write, oneItemMayCause: () => false })
  const all = [1, 2, 3].map((i) => create(i).then((r) => `ok ${r}`, (err: Error) => `failed: ${err.message}`))
  await w.releaseAll()
  t.same(await Promise.all(all), ['failed: bad item in 1,2,3', 'failed: bad item in 1,2,3', 'failed: bad item in 1,2,3'])
  t.same(w.batches, [[1, 2, 3]])
})
