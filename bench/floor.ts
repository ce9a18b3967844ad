// The floor: a bare Fastify route that does one INSERT of the same account row into the same
// database, nothing else (no validation, auth, events, outbox or credentials). What the
// gateway costs is its throughput measured against this one.
import Fastify from 'fastify'
import { randomUUID } from 'node:crypto'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/storage/database.js'
import { migrateToLatest } from '../src/storage/migrate.js'

const config = loadConfig(process.env)
const database = await openDatabase(config.database)
await migrateToLatest(database.db, { productId: config.productId })
const app = Fastify()
app.post('/floor', async (request) => {
  const body = request.body as { uuid: string, plan: string }
  const now = new Date()
  await database.db.insertInto('accounts').values({
    id: randomUUID(), product: config.productId, marketplace: 'heroku', external_id: body.uuid, plan: body.plan, status: 'active',
    customer_account_id: null, metadata: '{}', entitlements: '[]', created_at: now, updated_at: now
  }).execute()
  return { id: body.uuid }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
process.once('SIGTERM', () => { void app.close().then(() => database.close()).then(() => process.exit(0)) })
