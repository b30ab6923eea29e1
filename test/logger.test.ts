// The logger interface every client takes (`logger` option): a pino-compatible subset, a default
// that writes warnings to stderr at most once per cause per interval, and a wrapper that keeps a
// throwing logger from breaking the client.

import { describe, expect, it } from 'vitest'
import { createDefaultLogger, safeLogger, silentLogger, type Logger } from '../src/logger.js'

function capture(intervalMs = 60_000): { lines: string[]; now: { t: number }; log: Logger } {
  const lines: string[] = []
  const now = { t: 1_000_000 }
  const log = createDefaultLogger({ intervalMs, write: (l) => lines.push(l), now: () => now.t })
  return { lines, now, log }
}

describe('default logger', () => {
  it('writes warn and error, not info or debug', () => {
    const { lines, log } = capture()
    log.debug('d')
    log.info({ a: 1 }, 'i')
    log.warn('w')
    log.error({ err: new Error('boom') }, 'e')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^kafkats WARN w$/)
    expect(lines[1]).toContain('ERROR e')
    expect(lines[1]).toContain('err="boom"')
  })

  it('writes one cause at most once per interval, then says how many it left out', () => {
    const { lines, now, log } = capture(60_000)
    const reader = log.child({ client: 'reader', groupId: 'g' })
    for (let i = 0; i < 100; i++) reader.warn({ broker: i }, 'broker unreachable')
    reader.warn('another cause')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toBe('kafkats WARN [client="reader" groupId="g"] broker unreachable broker=0')
    now.t += 59_999
    reader.warn('broker unreachable')
    expect(lines).toHaveLength(2)
    now.t += 1
    reader.warn('broker unreachable')
    expect(lines).toHaveLength(3)
    expect(lines[2]).toContain('(100 more since the last)')
    // Another child's identical message is another cause.
    log.child({ client: 'writer' }).warn('broker unreachable')
    expect(lines).toHaveLength(4)
  })

  it('keeps bounded memory over many distinct causes: the oldest are forgotten', () => {
    const { lines, log } = capture()
    for (let i = 0; i < 20_000; i++) log.warn(`cause ${i}`)
    expect(lines).toHaveLength(20_000)
    log.warn('cause 19999') // remembered: suppressed
    expect(lines).toHaveLength(20_000)
    log.warn('cause 0') // forgotten long ago (at most 1024 are kept): written again
    expect(lines).toHaveLength(20_001)
  })

  it('never prints fields that look like credentials', () => {
    const { lines, log } = capture()
    log
      .child({ sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } })
      .warn({ password: 'p4ss', token: 't0k' }, 'x')
    expect(lines.join('\n')).not.toMatch(/hunter2|p4ss|t0k/)
  })
})

describe('safeLogger', () => {
  it('swallows what a user logger throws, and binds children', () => {
    const seen: unknown[][] = []
    const user: Logger = {
      debug: () => {
        throw new Error('broken sink')
      },
      info: () => {},
      warn: (...args: unknown[]) => void seen.push(args),
      error: () => {},
      child: () => user,
    }
    const log = safeLogger(user)
    expect(() => log.debug('x')).not.toThrow()
    log.child({ a: 1 }).warn({ b: 2 }, 'm')
    expect(seen).toEqual([[{ b: 2 }, 'm']])
    expect(() => silentLogger.child({}).error('nothing')).not.toThrow()
  })
})
