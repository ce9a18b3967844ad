import { MarketgateError } from '../../core/index.js'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Cursors are opaque to clients: base64url of the last id on the page. */
export function encodeCursor (id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url')
}

/** Decodes a cursor, or fails with VALIDATION_FAILED when it is not one of ours. */
export function decodeCursor (cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!uuidPattern.test(id)) throw new MarketgateError('VALIDATION_FAILED', 'invalid cursor')
  return id
}

/** Cuts a page fetched with limit + 1 rows into data and the next cursor. */
export function pageOf<T extends { id: string }> (rows: T[], limit: number): { data: T[], nextCursor: string | null } {
  const data = rows.slice(0, limit)
  const last = data[data.length - 1]
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null }
}
