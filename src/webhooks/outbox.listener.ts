import pg from 'pg'
import type { Logger } from 'pino'
import { outboxChannel } from '../storage/event-log.js'
import { createFailureBackoff } from '../workers/backoff.js'

export interface OutboxListener {
  /** True while a LISTEN connection is up (Postgres only). */
  readonly listening?: boolean
  close(): Promise<void>
}

export interface ListenerOptions {
  /** Reconnect delays: capped exponential with equal jitter (default 500 ms doubling to 30 s). */
  backoff?: { baseMs: number, capMs: number }
  /** A number in [0, 1) for the jitter (default Math.random). */
  random?: () => number
  /** Schedules a reconnect (tests run it at once or by hand); returns a cancel function. */
  schedule?: (fn: () => void, ms: number) => () => void
  /** Gives up on a connection attempt that hangs (a frozen database); default 10 s. */
  connectTimeoutMs?: number
}

const realSchedule = (fn: () => void, ms: number) => {
  const timer = setTimeout(fn, ms).unref()
  return () => clearTimeout(timer)
}

/**
 * LISTEN on a dedicated connection (a pooled one would be handed back and lose it): each
 * NOTIFY sent when an outbox row commits calls `wake`. It is a latency hint only; when the
 * connection drops the worker polls, and the listener reconnects with capped exponential
 * backoff and jitter (many instances losing one database do not all come back in the same
 * millisecond), and wakes the worker once back, for what committed meanwhile. One warning
 * per outage (then the 10th, 100th … failed try), one line when it is back.
 */
export function listenForOutbox (url: string, wake: () => void, logger: Logger, options: ListenerOptions = {}): OutboxListener {
  const backoff = createFailureBackoff(options.random ?? Math.random, options.backoff ?? { baseMs: 500, capMs: 30_000 })
  const schedule = options.schedule ?? realSchedule
  let current: pg.Client | undefined
  let listening = false
  let closed = false
  let cancel: (() => void) | undefined
  let connecting: Promise<void> | undefined

  const connect = async () => {
    if (closed) return
    const c = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 })
    current = c
    c.on('notification', (msg) => { if (msg.channel === outboxChannel) wake() })
    c.on('error', (err) => drop(c, err, 'outbox listener lost its connection; polling until it is back'))
    try {
      await c.connect()
      await c.query(`listen ${outboxChannel}`)
      if (closed) { await c.end(); return }
      listening = true
      const failures = backoff.succeeded()
      if (failures > 0) logger.info({ failures }, 'outbox listener is back')
      wake() // rows may have committed while we were not listening
    } catch (err) {
      drop(c, err, 'outbox listener could not connect; polling')
    }
  }
  const drop = (c: pg.Client, err: unknown, message: string) => {
    // Only the connection in use counts: a second 'error' of a client already dropped, or
    // of one being ended, must not schedule a second reconnect.
    if (c !== current) return
    current = undefined
    listening = false
    c.end().catch(() => {})
    if (closed) return
    const wait = backoff.failed()
    const streak = backoff.streak
    if (streak === 1 || Number.isInteger(Math.log10(streak))) logger.warn({ reason: (err as Error)?.message, failures: streak, retryInMs: wait }, message)
    cancel = schedule(() => { cancel = undefined; connecting = connect() }, wait)
  }
  connecting = connect()

  return {
    get listening () { return listening },
    async close () {
      closed = true
      cancel?.()
      await connecting
      const c = current
      current = undefined
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
