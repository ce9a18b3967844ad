import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the fake received, for assertions. */
export interface FakeRequest { target: string, body: Record<string, unknown>, headers: IncomingMessage['headers'] }

type Reply = { status: number, body: unknown }
type Handler = (body: Record<string, unknown>) => Reply

export interface QueuedMessage { id: string, body: string, receives: number, deleted: boolean }

/**
 * A local fake of the AWS JSON protocols the gateway speaks: awsJson1_1 for Marketplace
 * Metering and Entitlement, awsJson1_0 for SQS. Dispatches on X-Amz-Target; errors are
 * `{ "__type": … }` bodies as AWS sends them. Scripted per test: customers by token,
 * entitlements per filter value (paged), a queue of SQS messages, one-off failures.
 */
export class AwsFake {
  readonly requests: FakeRequest[] = []
  /** token → ResolveCustomer result, or an error type. */
  readonly tokens = new Map<string, Record<string, unknown> | { error: string }>()
  /** filter value (license arn, customer id, account id) → entitlements. */
  readonly entitlements = new Map<string, Array<Record<string, unknown>>>()
  entitlementPageSize = 25
  readonly queue: QueuedMessage[] = []
  /** Errors to answer, in order, for a target (then normal service resumes). */
  readonly failures = new Map<string, string[]>()
  /** BatchMeterUsage: what AWS has billed, by customer|dimension|hour. */
  readonly metered = new Map<string, { quantity: number, id: string, sends: number }>()
  /** Customers (LicenseArn or CustomerIdentifier) AWS answers CustomerNotSubscribed for. */
  readonly unsubscribed = new Set<string>()
  /** Customers whose records come back once in UnprocessedRecords. */
  readonly unprocessedOnce = new Set<string>()
  /** The fake's clock for the metering time window; records older than the window fail the batch. */
  meteringNow: () => Date = () => new Date()
  meteringWindowMs = 24 * 3600_000
  /** Runs once, before the next request to `target` is answered: lets a test interleave another writer. */
  beforeReply: { target: string, run: () => Promise<void> } | undefined
  #server: Server | undefined
  #requestSeq = 0
  url = ''

  async start (): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', async () => {
        const target = String(req.headers['x-amz-target'] ?? '')
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>
        this.requests.push({ target, body, headers: req.headers })
        const hook = this.beforeReply
        if (hook?.target === target) {
          this.beforeReply = undefined
          await hook.run()
        }
        const reply = this.#dispatch(target, body)
        const json = target.startsWith('AmazonSQS') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1'
        res.writeHead(reply.status, { 'content-type': json, 'x-amzn-requestid': `req-${++this.#requestSeq}` })
        res.end(JSON.stringify(reply.body))
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  async stop (): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()))
  }

  reset (): void {
    this.requests.length = 0
    this.tokens.clear()
    this.entitlements.clear()
    this.queue.length = 0
    this.failures.clear()
    this.entitlementPageSize = 25
    this.metered.clear()
    this.unsubscribed.clear()
    this.unprocessedOnce.clear()
    this.beforeReply = undefined
  }

  /** Requests for one target, e.g. `AWSMPMeteringService.ResolveCustomer`. */
  calls (target: string): FakeRequest[] {
    return this.requests.filter((r) => r.target === target)
  }

  fail (target: string, ...errors: string[]): void {
    this.failures.set(target, [...(this.failures.get(target) ?? []), ...errors])
  }

  enqueue (id: string, body: unknown): void {
    this.queue.push({ id, body: typeof body === 'string' ? body : JSON.stringify(body), receives: 0, deleted: false })
  }

  #dispatch (target: string, body: Record<string, unknown>): Reply {
    const scripted = this.failures.get(target)?.shift()
    if (scripted !== undefined) return error(scripted)
    const handler = this.#handlers[target]
    return handler ? handler(body) : error('UnknownOperationException', 400)
  }

  #handlers: Record<string, Handler> = {
    'AWSMPMeteringService.ResolveCustomer': (body) => {
      const result = this.tokens.get(String(body.RegistrationToken))
      if (result === undefined) return error('InvalidTokenException')
      if ('error' in result) return error(String(result.error))
      return { status: 200, body: result }
    },
    'AWSMPMeteringService.BatchMeterUsage': (body) => {
      // As AWS: at most 25 records; one window for every record or the whole call fails;
      // per hour the first quantity wins (same again = Success with the same id).
      const records = (body.UsageRecords ?? []) as Array<Record<string, unknown>>
      if (records.length > 25) return error('ValidationException')
      const now = this.meteringNow().getTime()
      for (const r of records) {
        if (r.CustomerIdentifier !== undefined && body.ProductCode === undefined) return error('InvalidProductCodeException')
        if (r.LicenseArn !== undefined && body.ProductCode !== undefined) return error('ValidationException')
        const at = Number(r.Timestamp) * 1000
        if (at < now - this.meteringWindowMs || at > now + 3600_000) return error('TimestampOutOfBoundsException')
      }
      const Results: unknown[] = []
      const UnprocessedRecords: unknown[] = []
      for (const r of records) {
        const customer = String(r.LicenseArn ?? r.CustomerIdentifier)
        if (this.unprocessedOnce.delete(customer)) { UnprocessedRecords.push(r); continue }
        if (this.unsubscribed.has(customer)) { Results.push({ UsageRecord: r, Status: 'CustomerNotSubscribed' }); continue }
        const key = `${customer}|${String(r.Dimension)}|${Number(r.Timestamp) * 1000}`
        const quantity = Number(r.Quantity ?? 0)
        const seen = this.metered.get(key)
        if (seen === undefined) {
          const id = `mr-${this.metered.size + 1}`
          this.metered.set(key, { quantity, id, sends: 1 })
          Results.push({ UsageRecord: r, MeteringRecordId: id, Status: 'Success' })
        } else {
          seen.sends++
          Results.push({ UsageRecord: r, MeteringRecordId: seen.id, Status: seen.quantity === quantity ? 'Success' : 'DuplicateRecord' })
        }
      }
      return { status: 200, body: { Results, UnprocessedRecords } }
    },
    'AWSMPEntitlementService.GetEntitlements': (body) => {
      const filter = (body.Filter ?? {}) as Record<string, string[]>
      const key = Object.values(filter)[0]?.[0] ?? ''
      const all = this.entitlements.get(key) ?? []
      const start = Number(body.NextToken ?? 0)
      const page = all.slice(start, start + this.entitlementPageSize)
      const next = start + this.entitlementPageSize < all.length ? String(start + this.entitlementPageSize) : undefined
      return { status: 200, body: { Entitlements: page, ...(next ? { NextToken: next } : {}) } }
    },
    'AmazonSQS.ReceiveMessage': (body) => {
      const max = Number(body.MaxNumberOfMessages ?? 1)
      // No visibility clock: every message not deleted is visible again on the next receive.
      const visible = this.queue.filter((m) => !m.deleted).slice(0, max)
      for (const m of visible) m.receives++
      if (visible.length === 0) return { status: 200, body: {} }
      return {
        status: 200,
        body: {
          Messages: visible.map((m) => ({
            MessageId: m.id, ReceiptHandle: `rh-${m.id}-${m.receives}`, Body: m.body,
            MD5OfBody: createHash('md5').update(m.body).digest('hex'), Attributes: { ApproximateReceiveCount: String(m.receives) }
          }))
        }
      }
    },
    'AmazonSQS.DeleteMessage': (body) => {
      const id = /^rh-(.+)-\d+$/.exec(String(body.ReceiptHandle))?.[1]
      const m = this.queue.find((q) => q.id === id)
      if (m) m.deleted = true
      return { status: 200, body: {} }
    },
    'AmazonSQS.ChangeMessageVisibility': () => ({ status: 200, body: {} })
  }
}

const serverErrors = new Set(['InternalServiceErrorException', 'InternalFailure', 'ServiceUnavailable'])

function error (type: string, status?: number): Reply {
  const code = status ?? (serverErrors.has(type) ? 500 : 400)
  return { status: code, body: { __type: type, message: `fake ${type}` } }
}
