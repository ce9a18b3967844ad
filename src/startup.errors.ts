import { ConfigError } from './config.js'
import { DataDirInUseError } from './storage/database.js'

/**
 * The start-up failures a user can act on, each with its exit code and one line to print:
 * a bad variable, a database that never answered within DATABASE_CONNECT_TIMEOUT_S, a secret
 * key that cannot open the stored secrets (78), an embedded data dir or a port another process
 * holds (75).
 * Recognised by name as well as class so a failure raised deep in a dependency's copy of a
 * module still maps. Anything else is undefined: a bug, logged with its stack.
 */
export function startupFailure (err: unknown): { exitCode: 75 | 78, line: string } | undefined {
  if (err instanceof ConfigError) return { exitCode: 78, line: `configuration error: ${err.message}` }
  if (err instanceof DataDirInUseError) return { exitCode: 75, line: err.message }
  if ((err as Error | undefined)?.name === 'PortInUseError') return { exitCode: 75, line: (err as Error).message }
  const name = (err as Error | undefined)?.name
  if (name === 'DatabaseUnreachableError' || name === 'SecretKeyMismatchError') return { exitCode: 78, line: (err as Error).message.split('\n')[0]! }
  return undefined
}
