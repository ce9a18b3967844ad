import { MarketgateError } from '../../core/index.js'

/** What a marketplace message says happened, whichever way it came in. */
export const AwsAction = {
  subscribeSuccess: 'subscribe-success',
  subscribeFail: 'subscribe-fail',
  unsubscribePending: 'unsubscribe-pending',
  unsubscribeSuccess: 'unsubscribe-success',
  entitlementUpdated: 'entitlement-updated',
  agreementCreated: 'agreement-created',
  agreementAmended: 'agreement-amended',
  agreementEnded: 'agreement-ended',
  licenseUpdated: 'license-updated',
  licenseDeprovisioned: 'license-deprovisioned'
} as const
export type AwsAction = (typeof AwsAction)[keyof typeof AwsAction]

/** One normalized notification: an SNS message body or an EventBridge event. */
export interface AwsNotification {
  /** Unique per marketplace message: `sns:<MessageId>`, `eb:<event id>`, `sqs:<MessageId>`. */
  messageId: string
  action: AwsAction
  customerIdentifier?: string
  licenseArn?: string
  agreementId?: string
  customerAccountId?: string
  productCode?: string
  offerId?: string
  freeTrial?: boolean
  payload: unknown
}

const snsActions = new Set<string>([AwsAction.subscribeSuccess, AwsAction.subscribeFail, AwsAction.unsubscribePending, AwsAction.unsubscribeSuccess, AwsAction.entitlementUpdated])

// detail-type prefixes; the suffix is the role ("- Manufacturer" or "- Proposer").
const eventActions: Array<[string, AwsAction]> = [
  ['Purchase Agreement Created', AwsAction.agreementCreated],
  ['Purchase Agreement Amended', AwsAction.agreementAmended],
  ['Purchase Agreement Ended', AwsAction.agreementEnded],
  ['License Updated', AwsAction.licenseUpdated],
  ['License Deprovisioned', AwsAction.licenseDeprovisioned]
]

const invalid = (message: string) => new MarketgateError('VALIDATION_FAILED', message)
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/**
 * The body of an SNS marketplace message: `{ action, customer-identifier, product-code,
 * offer-identifier?, isFreeTrialTermPresent? }`. Some AWS pages print PascalCase keys; both
 * are accepted. `isFreeTrialTermPresent` is the string "true"/"false".
 */
export function parseSnsBody (messageId: string, text: string): AwsNotification {
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw invalid('the SNS Message is not JSON')
  }
  const action = str(body.action)
  if (action === undefined || !snsActions.has(action)) throw invalid(`unknown action ${JSON.stringify(action ?? null).slice(0, 60)}`)
  const customerIdentifier = str(body['customer-identifier']) ?? str(body.CustomerIdentifier)
  if (customerIdentifier === undefined) throw invalid('the message names no customer-identifier')
  const trial = body.isFreeTrialTermPresent
  return {
    messageId,
    action: action as AwsAction,
    customerIdentifier,
    productCode: str(body['product-code']) ?? str(body.ProductCode),
    offerId: str(body['offer-identifier']),
    freeTrial: trial === undefined ? undefined : String(trial).toLowerCase() === 'true',
    payload: body
  }
}

/**
 * An EventBridge event from `aws.agreement-marketplace`. Agreement events name the agreement
 * and the buyer's account; license events also name the license and product. Returns
 * undefined for detail-types the gateway does not act on (acknowledged, ignored).
 */
export function parseEvent (event: Record<string, unknown>): AwsNotification | undefined {
  const detailType = str(event['detail-type'])
  const id = str(event.id)
  if (detailType === undefined || id === undefined) throw invalid('not an EventBridge event (detail-type and id required)')
  const action = eventActions.find(([prefix]) => detailType.startsWith(prefix))?.[1]
  if (action === undefined) return undefined
  const detail = (event.detail ?? {}) as Record<string, Record<string, unknown> | undefined>
  return {
    messageId: `eb:${id}`,
    action,
    licenseArn: normalizeLicenseArn(str(detail.license?.arn)),
    agreementId: str(detail.agreement?.id),
    customerAccountId: str(detail.acceptor?.accountId),
    // License events name the product (`product.code`); agreement events name none, so the
    // handler can only filter those by the agreement they belong to (see account.locate.ts).
    productCode: str(detail.product?.code) ?? str(detail.productCode),
    offerId: str(detail.offer?.id),
    payload: event
  }
}

/** AWS's own event example omits the leading `arn:`; keys are stored in the full form. */
export function normalizeLicenseArn (arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined
  return arn.startsWith('arn:') ? arn : `arn:${arn}`
}

/** The `l-…` id at the end of a license ARN: what two spellings of one ARN share. */
export function licenseIdOf (arn: string): string {
  return arn.split(/[:/]/).pop() ?? arn
}

/**
 * A message taken from SQS: an SNS envelope (raw delivery off), a raw SNS body, or an
 * EventBridge event. Undefined for an event the gateway ignores.
 */
export function parseQueued (sqsMessageId: string, text: string): AwsNotification | undefined {
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw invalid('the queued message is not JSON')
  }
  if (body.Type === 'Notification' && typeof body.Message === 'string') {
    return parseSnsBody(`sns:${String(body.MessageId)}`, body.Message)
  }
  if ('detail-type' in body) return parseEvent(body)
  if ('action' in body) return parseSnsBody(`sqs:${sqsMessageId}`, text)
  throw invalid('the queued message is neither an SNS message nor an EventBridge event')
}
