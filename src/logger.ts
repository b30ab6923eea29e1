// The `logger` option of the clients: a subset of pino's interface (pino, bunyan-style loggers
// and anything with these methods fit), the default that writes warnings to stderr without
// flooding it, and a wrapper so a throwing logger never breaks a client.
//
//   new Reader({ ..., logger: pino() })           // structured: log.warn({ broker: 1 }, 'msg')
//   new Reader({ ..., logger: silentLogger })     // nothing at all

import { publish } from './telemetry/channels.js'

/** Structured fields of one log line; `err` holds an Error when there is one. */
export type LogFields = Record<string, unknown>

/** pino's call shapes: `log.warn('msg')` or `log.warn({ field }, 'msg')`. */
export interface LogFn {
  (message: string): void
  (fields: LogFields, message?: string): void
}

export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  /** A logger that adds `bindings` to every line (pino's child). */
  child(bindings: LogFields): Logger
}

const noop = (): void => {}

/** Logs nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger }

export interface DefaultLoggerOptions {
  /** One cause (same bindings, level and message) is written at most once per interval (ms). Default 60 000. */
  intervalMs?: number
  /** Where lines go. Default: stderr. */
  write?: (line: string) => void
  /** Test seam: the clock. */
  now?: () => number
}

/** Causes remembered for the interval; beyond this the oldest are forgotten (bounded memory). */
const MAX_CAUSES = 1024
/** Field names never printed: SASL settings, passwords, tokens. */
const SECRET = /pass|secret|token|sasl|credential|key$/i

/**
 * The default: warn and error lines on stderr (`kafkats WARN [client=reader] message k=v`),
 * each cause at most once per interval, the next one saying how many were left out meanwhile.
 * A cause is the logger's bindings, the level and the message (variable data belongs in fields,
 * as with pino), so a broker that stays unreachable prints one line a minute, not one per retry.
 */
export function createDefaultLogger(options: DefaultLoggerOptions = {}): Logger {
  const intervalMs = options.intervalMs ?? 60_000
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const now = options.now ?? Date.now
  const causes = new Map<string, { at: number; suppressed: number }>()

  const make = (prefix: string): Logger => {
    const emit =
      (level: 'WARN' | 'ERROR'): LogFn =>
      (a: LogFields | string, b?: string): void => {
        const [fields, message] = typeof a === 'string' ? [undefined, a] : [a, b ?? '']
        const key = `${prefix}\u0000${level}\u0000${message}`
        const t = now()
        const seen = causes.get(key)
        if (seen !== undefined && t - seen.at < intervalMs) {
          seen.suppressed++
          return
        }
        causes.delete(key) // re-inserted last: the Map's order is the eviction order
        causes.set(key, { at: t, suppressed: 0 })
        if (causes.size > MAX_CAUSES) causes.delete(causes.keys().next().value!)
        let line = `kafkats ${level}${prefix === '' ? '' : ` [${prefix}]`} ${message}`
        const rest = fields === undefined ? '' : formatFields(fields)
        if (rest !== '') line += ` ${rest}`
        if (seen !== undefined && seen.suppressed > 0) line += ` (${seen.suppressed} more since the last)`
        write(line)
      }
    return {
      debug: noop,
      info: noop,
      warn: emit('WARN'),
      error: emit('ERROR'),
      child: (bindings) => {
        const more = formatFields(bindings)
        return make(prefix === '' ? more : more === '' ? prefix : `${prefix} ${more}`)
      },
    }
  }
  return make('')
}

function formatFields(fields: LogFields): string {
  const parts: string[] = []
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || SECRET.test(name)) continue
    parts.push(`${name}=${formatValue(value)}`)
  }
  return parts.join(' ')
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message)
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return String(value)
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value, (k, v: unknown) =>
        SECRET.test(k) ? undefined : typeof v === 'bigint' ? String(v) : v,
      )
    } catch {
      return '[unprintable]'
    }
  }
  return String(value)
}

/**
 * Wraps a user's logger: what it throws is dropped (logging is an observer; its failures must
 * not end a fetch loop), and `child` falls back to the parent when the logger has none.
 * `onProblem`, when given, sees every warn/error line (the Reader turns them into 'error' events).
 */
export function safeLogger(
  logger: Logger,
  onProblem?: (fields: LogFields | undefined, message: string) => void,
): Logger {
  const call =
    (level: keyof Omit<Logger, 'child'>): LogFn =>
    (a: LogFields | string, b?: string): void => {
      try {
        if (typeof a === 'string') logger[level](a)
        else if (b === undefined) logger[level](a)
        else logger[level](a, b)
      } catch {
        // A broken sink is not the client's failure.
      }
      if ((level === 'warn' || level === 'error') && typeof a !== 'string' && a.err !== undefined)
        publish('error', () => ({ level, message: b ?? '', error: a.err }))
      if (onProblem !== undefined && (level === 'warn' || level === 'error')) {
        try {
          onProblem(typeof a === 'string' ? undefined : a, typeof a === 'string' ? a : (b ?? ''))
        } catch {
          // Same for a throwing listener.
        }
      }
    }
  return {
    debug: call('debug'),
    info: call('info'),
    warn: call('warn'),
    error: call('error'),
    child: (bindings) => {
      let inner: Logger = logger
      try {
        if (typeof logger.child === 'function') inner = logger.child(bindings)
      } catch {
        // Keep the parent.
      }
      return safeLogger(inner, onProblem)
    },
  }
}
