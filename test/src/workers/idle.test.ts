import t from 'tap'
import { getEventListeners } from 'node:events'
import { setImmediate as turn } from 'node:timers/promises'
import { createIdle } from '../../../src/workers/idle.js'

t.test('a wait ended by a wake-up leaves no timer and no listener behind', async (t) => {
  const { idle, wake } = createIdle(3_600_000)
  const controller = new AbortController()
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  for (let i = 0; i < 200; i++) {
    const waiting = idle(controller.signal)
    await turn()
    wake()
    await waiting
  }
  t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no abort listener left')
  t.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before, 'no hour-long timer left')
})

t.test('a wake-up while busy is remembered; a stopped signal ends the wait at once', async (t) => {
  const { idle, wake } = createIdle(3_600_000)
  const controller = new AbortController()
  wake()
  await idle(controller.signal) // returns at once: the wake-up came while busy
  const waiting = idle(controller.signal)
  controller.abort()
  await waiting
  await idle(controller.signal) // already stopped: no wait
  t.pass('no wait outlived its reason')
})
