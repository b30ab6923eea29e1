// Command-line parsing shared by the `kafkats` commands: node:util parseArgs, with its errors
// turned into one typed UsageError that names the flag (the CLI prints usage and exits 2).

import { readFileSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ConfigError } from '../errors.js'

/** A bad command line: unknown command or flag, missing or malformed value. Exit status 2. */
export class UsageError extends ConfigError {}

type Options = NonNullable<ParseArgsConfig['options']>

/** parseArgs in strict mode; every parse failure becomes a UsageError naming the flag. */
export function parseFlags<O extends Options>(
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const code = (err as { code?: unknown }).code
    // parseArgs' messages quote the flag: "Unknown option '--nope'", "Option '--port <value>' argument missing".
    const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? /argument '([^']+)'/.exec(message)?.[1] ?? 'arguments'
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(flag, 'unknown flag')
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(flag, 'unexpected argument')
    throw new UsageError(flag, message.split('. ')[0] ?? message)
  }
}

/** A non-negative integer flag value. */
export function intFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new UsageError(flag, `must be a non-negative integer, got '${value}'`)
  return n
}

/** The package version, from package.json two levels up (same from src/cli and dist/cli). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  const version = (JSON.parse(text) as { version?: unknown }).version
  if (typeof version !== 'string') throw new Error('package.json has no version')
  return version
}
