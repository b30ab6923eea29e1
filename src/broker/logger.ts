// A pluggable logger for the reference broker. Silent by default: a test broker that prints on
// every closed connection drowns the test output. Pass `console` (or anything with these
// methods) as `Cluster.start({ logger })` to see what the broker decided and why.

export interface BrokerLogger {
  debug?(message: string, fields?: Record<string, unknown>): void
  info?(message: string, fields?: Record<string, unknown>): void
  warn?(message: string, fields?: Record<string, unknown>): void
  error?(message: string, fields?: Record<string, unknown>): void
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** A logger that never throws into the broker: a failing sink must not break a request. */
export class Log {
  constructor(
    private readonly sink: BrokerLogger | undefined,
    private readonly prefix: string = '',
  ) {}

  child(prefix: string): Log {
    return new Log(this.sink, this.prefix === '' ? prefix : `${this.prefix} ${prefix}`)
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.emit('debug', message, fields)
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.emit('info', message, fields)
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.emit('warn', message, fields)
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.emit('error', message, fields)
  }

  private emit(level: LogLevel, message: string, fields: Record<string, unknown> | undefined): void {
    const fn = this.sink?.[level]
    if (fn === undefined) return
    try {
      const text = this.prefix === '' ? message : `[${this.prefix}] ${message}`
      if (fields === undefined) fn.call(this.sink, text)
      else fn.call(this.sink, text, fields)
    } catch {
      // A logger is an observer; its failures are not the broker's.
    }
  }
}
