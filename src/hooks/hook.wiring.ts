import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { Clock, HookGrantStore, Random, VendorHook } from '../../core/index.js'
import type { Config } from '../config.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database } from '../storage/tables.js'
import { createVendorHook } from './hook.client.js'
import { createHookDecisionStore, type HookDecisionStore } from './hook-decision.store.js'
import { createHookHttp, type Deadline } from './hook.http.js'
import { createHookGrantStore } from './hook-grant.store.js'

export interface Hooks {
  /** The environment's product's hook; undefined without MARKETGATE_HOOK_URL (everything is allowed, at no cost). */
  hook: VendorHook | undefined
  decisions: HookDecisionStore
  grants: HookGrantStore
  close(): Promise<void>
}

export interface HookDeps {
  config: Readonly<Config>
  db: Kysely<Database>
  secrets: SecretBox
  clock: Clock
  random: Random
  logger: Logger
  metrics: Registry
  /** Tests end deadlines at will. */
  deadline?: Deadline
}

/** The hook and its stores, from the configuration. */
export function createHooks (deps: HookDeps): Hooks {
  const { config, db, clock, random } = deps
  const decisions = createHookDecisionStore({ db, clock, random })
  const grants = createHookGrantStore({ db, secrets: deps.secrets, clock, random })
  if (config.hook === undefined) return { hook: undefined, decisions, grants, close: async () => {} }
  const http = createHookHttp({ deadline: deps.deadline })
  const hook = createVendorHook({
    settings: config.hook, http, decisions, clock, log: deps.logger.child({ component: 'hook' }), metrics: deps.metrics
  })
  return { hook, decisions, grants, close: () => http.close() }
}
