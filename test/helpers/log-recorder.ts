// A pino-shaped logger for tests that records every call, so a test can assert what was logged.

import type { LogFields, Logger } from '../../src/logger.js'

export interface Line {
  level: string
  fields: LogFields
  message: string
  /** When it was logged (epoch ms). */
  at: number
}

/** A pino-shaped logger that records every call, bindings merged in. */
export function recorder(lines: Line[] = [], bindings: LogFields = {}): Logger & { lines: Line[] } {
  const at =
    (level: string) =>
    (a: LogFields | string, b?: string): void => {
      lines.push(
        typeof a === 'string'
          ? { level, fields: { ...bindings }, message: a, at: Date.now() }
          : { level, fields: { ...bindings, ...a }, message: b ?? '', at: Date.now() },
      )
    }
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recorder(lines, { ...bindings, ...more }),
  }
}
