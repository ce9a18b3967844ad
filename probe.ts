import { readFileSync, readdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
let t0 = Date.now()
const f = readdirSync('.tap').find((x) => x.startsWith('pglite-template'))!
const c = new PGlite({ loadDataDir: new Blob([readFileSync('.tap/' + f)]) }); await c.waitReady
console.log('load', Date.now() - t0)
t0 = Date.now()
await import('./src/app.js')
console.log('import app', Date.now() - t0)
