import type { FastifyInstance, FastifyRequest } from 'fastify'
import { MarketgateError } from '../../core/index.js'

/**
 * Deepest nesting accepted in any request part. Every marketplace payload we know is under
 * 10 levels (an EventBridge event is 5); 64 leaves room for vendors' `options` while keeping
 * ajv, the JSON serializer and Postgres' jsonb far from their recursion limits (3000 levels
 * answered 5xx before this guard).
 */
export const maxDepth = 64

/** A 400 thrown before validation; `statusCode` lets scopes that render pages see a 4xx. */
export class BadInputError extends MarketgateError {
  readonly statusCode = 400
  constructor (message: string) { super('VALIDATION_FAILED', message) }
}

// One cheap scan per string; the precise check runs only when it matches (almost never).
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const suspicious = /[\u0000\ud800-\udfff]/

/** Why a string cannot be stored as Postgres text or jsonb, or undefined when it can. */
function badString (s: string): string | undefined {
  if (!suspicious.test(s)) return undefined
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000)'
  // A well-formed string may hold surrogate pairs (emoji); only a lone half is refused (22P05).
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) return 'must not contain a lone UTF-16 surrogate'
  return undefined
}

interface Frame { value: unknown, depth: number, parent: Frame | undefined, key: string | number }

/** `body.options.a`, `body.events[0]`, `query.external_id`. */
function pathOf (frame: Frame | undefined, last?: string | number): string {
  const keys: Array<string | number> = last === undefined ? [] : [last]
  for (let f = frame; f !== undefined; f = f.parent) keys.unshift(f.key)
  let out = ''
  for (const k of keys) out += typeof k === 'number' ? `[${k}]` : out === '' ? k : `.${k}`
  return out
}

/**
 * Walks a parsed request part without recursion (a 1 MiB body can nest 500 000 levels) and
 * returns one message naming the first field that holds a NUL, a lone surrogate (in a value or
 * a key), or nests deeper than `maxDepth`; undefined when the part is fine.
 */
export function findBadInput (value: unknown, part: string): string | undefined {
  if (typeof value === 'string') {
    const why = badString(value)
    return why === undefined ? undefined : `${part} ${why}`
  }
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return undefined
  const stack: Frame[] = [{ value, depth: 1, parent: undefined, key: part }]
  while (stack.length > 0) {
    const frame = stack.pop()!
    if (frame.depth > maxDepth) return `${pathOf(frame)} nests deeper than ${maxDepth} levels`
    const v = frame.value
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const why = visit(stack, frame, i, v[i])
        if (why !== undefined) return why
      }
    } else {
      for (const key in v as Record<string, unknown>) {
        if (!Object.hasOwn(v as object, key)) continue
        const bad = badString(key)
        if (bad !== undefined) return `${pathOf(frame)} has a key that ${bad}`
        const why = visit(stack, frame, key, (v as Record<string, unknown>)[key])
        if (why !== undefined) return why
      }
    }
  }
  return undefined
}

/** Checks a string child at once; queues an object child for the walk. */
function visit (stack: Frame[], frame: Frame, key: string | number, child: unknown): string | undefined {
  if (typeof child === 'string') {
    const why = badString(child)
    return why === undefined ? undefined : `${pathOf(frame, key)} ${why}`
  }
  if (child !== null && typeof child === 'object') stack.push({ value: child, depth: frame.depth + 1, parent: frame, key })
  return undefined
}

function check (request: FastifyRequest): Error | undefined {
  const message = findBadInput(request.params, 'params') ?? findBadInput(request.query, 'query') ?? findBadInput(request.body, 'body')
  return message === undefined ? undefined : new BadInputError(message)
}

/**
 * Bad bytes are bad input on every route (CONTRACT §12): one preValidation hook on the root,
 * added before any plugin so every encapsulated scope inherits it and its own error handler
 * (Heroku's `{message}`, the HTML pages) shapes the 400. Runs after authentication (onRequest),
 * so a wrong credential is still a 401 whatever the body holds. A callback hook, not an async
 * one: it is on every request of the provisioning hot path and needs no promise.
 */
export function installInputGuard (app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => { done(check(request)) })
}
