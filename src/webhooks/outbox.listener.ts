import pg from 'pg'
import type { Logger } from 'pino'
import { outboxChannel } from '../storage/event-log.js'

export interface OutboxListener {
  close(): Promise<void>
}

/**
 * LISTEN on a dedicated connection (a pooled one would be handed back and lose it): each
 * NOTIFY sent when an outbox row commits calls `wake`. It is a latency hint only; when the
 * connection drops the worker polls, and the listener reconnects after `retryMs`.
 */
export function listenForOutbox (url: string, wake: () => void, logger: Logger, retryMs = 5000): OutboxListener {
  let client: pg.Client | undefined
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let connecting: Promise<void> | undefined

  const connect = async () => {
    if (closed) return
    const c = new pg.Client({ connectionString: url })
    c.on('notification', (msg) => { if (msg.channel === outboxChannel) wake() })
    c.on('error', (err) => {
      logger.warn({ err: err.message }, 'outbox listener lost its connection; polling until it is back')
      drop(c)
    })
    try {
      await c.connect()
      await c.query(`listen ${outboxChannel}`)
      if (closed) { await c.end(); return }
      client = c
      wake() // rows may have committed while we were not listening
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'outbox listener could not connect; polling')
      drop(c)
    }
  }
  const drop = (c: pg.Client) => {
    if (client === c) client = undefined
    c.end().catch(() => {})
    if (!closed && timer === undefined) timer = setTimeout(() => { timer = undefined; connecting = connect() }, retryMs).unref()
  }
  connecting = connect()

  return {
    async close () {
      closed = true
      if (timer) clearTimeout(timer)
      await connecting
      const c = client
      client = undefined
      await c?.end().catch(() => {})
    }
  }
}

/**
 * The embedded engine's listener: PGlite runs in this process and calls back on NOTIFY, so
 * a commit wakes the worker at once instead of at its next poll.
 */
export function listenInProcess (
  listen: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>, wake: () => void, logger: Logger
): OutboxListener {
  const unlisten = listen(outboxChannel, wake).then((stop) => { wake(); return stop }, (err: unknown) => {
    logger.warn({ err: (err as Error).message }, 'could not listen for outbox notifications; polling')
    return undefined
  })
  return { close: async () => { await (await unlisten)?.().catch(() => {}) } }
}
