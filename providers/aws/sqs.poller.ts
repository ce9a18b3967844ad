import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs'
import { isMarketgateError, type ParkedMessageStore } from '../../core/index.js'
import { describeAwsError, type AwsClients } from './aws.clients.js'
import type { NotificationHandler } from './notification.handler.js'
import { parseQueued } from './notification.parse.js'

export interface PollerDeps {
  clients: Pick<AwsClients, 'sqs'>
  queueUrl: string
  handler: Pick<NotificationHandler, 'handle'>
  parked: ParkedMessageStore
  log: { info: (o: object, m: string) => void, warn: (o: object, m: string) => void, error: (o: object, m: string) => void }
  /** Receives after which a failing message is parked as dead (default 5). */
  maxReceives?: number
  /** Long-poll wait per receive, seconds (default 20, SQS's maximum). */
  waitSeconds?: number
}

export interface PollResult { received: number, done: number, retried: number, parked: number }

/**
 * Polls the marketplace queue. A message is deleted only after its change committed (or it was
 * parked); a failure leaves it for SQS to redeliver after a growing visibility timeout, and once
 * it has been received `maxReceives` times it is parked as dead in the database (visible at
 * GET /v1/aws/dead-messages) and deleted, instead of looping forever.
 */
export function createSqsPoller (deps: PollerDeps) {
  const maxReceives = deps.maxReceives ?? 5
  const { sqs } = deps.clients

  async function settle (m: Message): Promise<'done' | 'retried' | 'parked'> {
    const receives = Number(m.Attributes?.ApproximateReceiveCount ?? '1')
    try {
      const n = parseQueued(m.MessageId ?? '', m.Body ?? '')
      if (n !== undefined) await deps.handler.handle(n, 'sqs')
      await remove(m)
      return 'done'
    } catch (err) {
      const permanent = isMarketgateError(err, 'VALIDATION_FAILED')
      const reason = permanent ? (err as Error).message : describeAwsError(err).name
      if (permanent || receives >= maxReceives) {
        await deps.parked.park({ marketplace: 'aws', source: 'sqs', messageId: `sqs:${m.MessageId}`, state: 'dead', matchKey: null, reason, attempts: receives, body: m.Body ?? null })
        await remove(m)
        deps.log.error({ sqsMessageId: m.MessageId, reason, receives }, 'aws queue message parked as dead')
        return 'parked'
      }
      deps.log.warn({ sqsMessageId: m.MessageId, reason, receives }, 'aws queue message failed; SQS will redeliver')
      // 30 s, 60 s, 120 s, … capped at 15 min: a broken dependency is not hammered.
      const timeout = Math.min(900, 30 * 2 ** (receives - 1))
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: timeout }))
        .catch((e: unknown) => deps.log.warn({ awsError: describeAwsError(e).name }, 'ChangeMessageVisibility failed'))
      return 'retried'
    }
  }

  async function remove (m: Message): Promise<void> {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: m.ReceiptHandle }))
  }

  /** One long poll and the handling of what it brought. */
  async function runOnce (signal?: AbortSignal): Promise<PollResult> {
    const res = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: deps.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: deps.waitSeconds ?? 20,
      MessageSystemAttributeNames: ['ApproximateReceiveCount']
    }), { abortSignal: signal })
    const result: PollResult = { received: res.Messages?.length ?? 0, done: 0, retried: 0, parked: 0 }
    for (const m of res.Messages ?? []) result[await settle(m)]++
    return result
  }

  let stopping: AbortController | undefined
  let loop: Promise<void> | undefined

  return {
    runOnce,
    /** Polls until stop(); after an error (AWS down) waits `backoff` ms before the next poll. */
    start (sleep: (ms: number, signal: AbortSignal) => Promise<void>, backoffMs = 5000): void {
      stopping = new AbortController()
      const signal = stopping.signal
      loop = (async () => {
        while (!signal.aborted) {
          try {
            await runOnce(signal)
          } catch (err) {
            if (signal.aborted) break
            deps.log.warn({ awsError: describeAwsError(err).name }, 'aws queue poll failed')
            await sleep(backoffMs, signal).catch(() => {})
          }
        }
      })()
    },
    async stop (): Promise<void> {
      stopping?.abort()
      await loop
    }
  }
}
