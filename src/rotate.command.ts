import type { Logger } from 'pino'
import type { Config } from './config.js'
import { ConfigError } from './config.js'
import { createServices, resolveSecretKey } from './services.js'
import { rotateSecretKey, type RotationReport } from './storage/secret-key.rotation.js'

/** Thrown when some stored values could not be re-sealed: the report is printed, then exit 1. */
export class RotationIncompleteError extends Error {
  constructor (readonly report: string) { super('the rotation is incomplete') }
}

/**
 * `marketgate rotate-secret-key`: opens the gateway's services with both keys (which migrates
 * and checks that one of them opens the stored secrets), re-seals everything under the new key,
 * and returns the counts as text. Needs MARKETGATE_SECRET_KEY_PREVIOUS.
 */
export async function rotateSecretKeyCommand (config: Readonly<Config>, logger: Logger): Promise<string> {
  if (config.secretKeyPrevious === undefined) {
    throw new ConfigError('MARKETGATE_SECRET_KEY_PREVIOUS', 'set it to the old key (and MARKETGATE_SECRET_KEY to the new one) to rotate')
  }
  const services = await createServices({ config: { ...config, workers: false }, logger })
  let report: RotationReport
  try {
    report = await rotateSecretKey({ db: services.db, current: resolveSecretKey(config), previous: config.secretKeyPrevious, logger })
  } finally {
    await services.close()
  }
  const text = reportText(report)
  if (report.failed > 0 || report.conflicts > 0) throw new RotationIncompleteError(text)
  return text
}

export function reportText (report: RotationReport): string {
  const lines = Object.entries(report.tables).map(([table, r]) =>
    `${table}: ${r.resealed} re-sealed${r.failed ? `, ${r.failed} open under neither key` : ''}${r.conflicts ? `, ${r.conflicts} kept changing (run again)` : ''}`)
  lines.push(`key check: ${report.keyCheckRewritten ? 'rewritten under the new key' : 'already under the new key'}`)
  if (report.failed === 0 && report.conflicts === 0) lines.push('done: every stored secret is sealed under MARKETGATE_SECRET_KEY; MARKETGATE_SECRET_KEY_PREVIOUS can be removed')
  return `${lines.join('\n')}\n`
}
