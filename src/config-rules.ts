// Table-driven option validation shared by the Writer and the Reader: one rule per option, a
// list of removed or foreign option names with a hint, and one pass that throws ConfigError
// naming the option and why. Defaults live with each role's config, not here.

import { ConfigError } from './errors.js'

export const INT32_MAX = 0x7fffffff

/** Returns null when the value is acceptable, otherwise what is wrong with it. */
export type Check = (value: unknown) => string | null

/** How a value is shown in an error message (never the whole of a large object). */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}

export const integerIn =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? null
      : `must be an integer in [${min}, ${max}], got ${show(v)}`

/** Durations go on the wire as int32 milliseconds in places, so they must fit. */
export const milliseconds =
  (min: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= INT32_MAX
      ? null
      : `must be a number of milliseconds in [${min}, ${INT32_MAX}], got ${show(v)}`

export const isBoolean: Check = (v) => (typeof v === 'boolean' ? null : `must be a boolean, got ${show(v)}`)

export const isAbortSignal: Check = (v) => (v instanceof AbortSignal ? null : 'must be an AbortSignal')

/**
 * Checks `config` against `rules` (options left undefined are not checked) after refusing the
 * `removed` names with their hint. `role` names the class in messages ("the Writer").
 */
/** The `logger` option: pino-compatible (debug, info, warn, error; child optional). */
export const isLogger: Check = (v) =>
  typeof v === 'object' &&
  v !== null &&
  ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
    ? null
    : 'must be a logger with debug, info, warn and error methods (pino-compatible)'

export function checkOptions(
  role: 'Writer' | 'Reader',
  config: object,
  rules: Readonly<Record<string, Check>>,
  removed: Readonly<Record<string, string>>,
): void {
  if (typeof config !== 'object' || config === null) {
    throw new ConfigError('config', `the ${role} needs an options object`)
  }
  for (const [option, hint] of Object.entries(removed)) {
    if (option in config) throw new ConfigError(option, `is not a ${role} option; ${hint}`)
  }
  for (const [option, check] of Object.entries(rules)) {
    const value = (config as Record<string, unknown>)[option]
    if (value === undefined) continue
    const problem = check(value)
    if (problem !== null) throw new ConfigError(option, problem)
  }
}
