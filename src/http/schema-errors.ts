/**
 * Fastify's `schemaErrorFormatter`: one sentence naming the field and what it accepts, instead
 * of ajv's list (an unknown event type in `events` gave twelve `must be equal to constant`).
 * The error handler's validation branch passes the message through unchanged.
 */

/** The error objects ajv gives (TypeBox's compiler, used by the Heroku scope, gives message and path only). */
export interface SchemaError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

const partNames: Record<string, string> = { querystring: 'query' }

/** `/events/0` under `body` → `body.events[0]`. */
export function fieldName (part: string, pointer: string | undefined): string {
  let out = partNames[part] ?? part
  for (const raw of (pointer ?? '').split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    out += /^[0-9]+$/.test(key) ? `[${key}]` : `.${key}`
  }
  return out
}

const show = (v: unknown) => typeof v === 'string' ? v : JSON.stringify(v)

/** The sentence for the errors of one field (all at the same, deepest, path). */
function sentence (field: string, errors: SchemaError[]): string {
  // anyOf of literals (TypeBox unions of Type.Literal) and enums: list what is allowed.
  const allowed: unknown[] = []
  const types: string[] = []
  for (const e of errors) {
    if (e.keyword === 'const') allowed.push(e.params?.allowedValue)
    else if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) allowed.push(...e.params.allowedValues)
    else if (e.keyword === 'type' && e.params?.type !== undefined) types.push(String(e.params.type))
  }
  if (allowed.length > 0) {
    const nullable = types.includes('null') ? ' (or null)' : ''
    return `${field} must be one of: ${[...new Set(allowed.map(show))].join(', ')}${nullable}`
  }
  if (types.length > 1) return `${field} must be ${[...new Set(types)].join(' or ')}`
  const first = errors.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf') ?? errors[0]!
  if (first.keyword === 'required') return `${field}.${show(first.params?.missingProperty)} is required`
  if (first.keyword === 'additionalProperties') return `${field}.${show(first.params?.additionalProperty)} is not allowed`
  return `${field} ${first.message ?? 'is invalid'}`
}

/**
 * Picks the deepest path among the errors (the most specific field: `events[0]` rather than
 * `events`, whose "must be null" comes from the nullable branch) and describes it.
 */
export function schemaErrorFormatter (errors: SchemaError[], part: string): Error {
  if (errors.length === 0) return new Error(`${fieldName(part, '')} is invalid`)
  const depth = (e: SchemaError) => (e.instancePath ?? '').split('/').length
  const deepest = Math.max(...errors.map(depth))
  const group = errors.filter((e) => depth(e) === deepest)
  const path = group[0]!.instancePath
  return new Error(sentence(fieldName(part, path), group.filter((e) => e.instancePath === path)))
}
