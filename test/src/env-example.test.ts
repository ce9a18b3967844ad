import { readFileSync } from 'node:fs'
import t from 'tap'
import { configVariables } from '../../src/config.js'

// docker-compose passes every setting through .env: a variable missing from .env.example is
// a setting a compose user cannot find.
t.test('.env.example names every variable the gateway reads, and nothing else of ours', async (t) => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  const listed = new Set([...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!))
  for (const name of configVariables) t.ok(listed.has(name), `${name} is in .env.example`)
  const sdk = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])
  for (const name of listed) t.ok(configVariables.includes(name) || sdk.has(name), `${name} is a variable the gateway reads`)
})
