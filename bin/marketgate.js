#!/usr/bin/env node
/* global process */
// The `marketgate` bin: registers the TypeScript loader, then hands over to the CLI.
import { register } from 'tsx/esm/api'
register()
const { main } = await import('../src/cli.ts')
await main(process.argv.slice(2))
