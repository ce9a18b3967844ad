#!/usr/bin/env node
/* global process, URL */
// The `marketgate` bin. An installed image or package runs the code compiled ahead of time
// (`npm run build` → dist/); a checkout with its TypeScript sources runs them through tsx, so
// an edit is never shadowed by a stale build.
import { existsSync } from 'node:fs'

// The AWS SDK writes an 8-line notice about Node 20 to stderr, which breaks JSON logs;
// the start-up summary line carries the Node version instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
// What the gateway writes to disk (the embedded database, its secret key) is its user's alone.
process.umask(0o077)

const compiled = new URL('../dist/src/cli.js', import.meta.url)
let main
if (existsSync(compiled) && !existsSync(new URL('../src/cli.ts', import.meta.url))) {
  ({ main } = await import(compiled.href))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../src/cli.ts'))
}
await main(process.argv.slice(2))
