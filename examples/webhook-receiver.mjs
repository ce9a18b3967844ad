/* global process, console, Buffer */
// A local webhook receiver for the README's examples: it verifies each delivery with the
// `standardwebhooks` package (signature and timestamp, over the raw bytes) and prints one line
// per webhook. Run it from the repository (it uses the package installed there):
//   MARKETGATE_WEBHOOK_SECRET=whsec_… RECEIVER_PORT=4000 node examples/webhook-receiver.mjs
// Answers 204 to a verified webhook, 400 to one that fails verification (the gateway retries it).
import { createServer } from 'node:http'
import { Webhook } from 'standardwebhooks'

const secret = process.env.MARKETGATE_WEBHOOK_SECRET
if (!secret) {
  console.error('set MARKETGATE_WEBHOOK_SECRET to the endpoint\'s whsec_… secret')
  process.exit(64)
}
const port = Number(process.env.RECEIVER_PORT ?? 4000)
const wh = new Webhook(secret)
const seen = new Set() // webhook-id repeats on every retry: deduplicate on it

const server = createServer((req, res) => {
  if (req.method !== 'POST') { // a probe to see that the receiver is up
    res.writeHead(200, { 'content-type': 'text/plain' }).end('POST webhooks to /marketgate\n')
    return
  }
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8') // the exact bytes: no JSON round trip
    let event
    try {
      event = wh.verify(body, req.headers)
    } catch (err) {
      console.log(`rejected ${req.headers['webhook-id'] ?? '?'}: ${err.message}`)
      res.writeHead(400).end()
      return
    }
    const id = req.headers['webhook-id']
    const account = event.data?.account
    const about = account ? ` ${account.marketplace} ${account.external_id} ${account.status} plan=${account.plan}` : ''
    console.log(`${seen.has(id) ? 'repeat' : 'verified'} ${event.type}${about} (webhook-id ${id})`)
    seen.add(id)
    res.writeHead(204).end()
  })
})
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/marketgate`))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { server.close(() => process.exit(0)); server.closeAllConnections() })
