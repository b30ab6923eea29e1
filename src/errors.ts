// The error classes every layer throws. Each carries a stable string `code` and is recognised
// across copies of the package through a Symbol.for brand (two installed copies of kafkats
// still see each other's errors as KafkaTsError), the way undici does it.

const brand = Symbol.for('kafkats.error')

export interface KafkaTsErrorOptions {
  cause?: unknown
}

/** Base class of every error kafkats throws. `code` is stable and safe to switch on. */
export class KafkaTsError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: KafkaTsErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
  }

  get [brand](): true {
    return true
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== KafkaTsError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
  }
}

/** Bytes that do not decode: a truncated frame, a bad length, a bad varint, a CRC mismatch. */
export class ProtocolDecodeError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_PROTOCOL_DECODE', message, options)
  }
}

/** A value that cannot be encoded at the requested version (null where not nullable, out of range). */
export class ProtocolEncodeError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_PROTOCOL_ENCODE', message, options)
  }
}

/** A record batch whose CRC-32C does not match its contents. */
export class CorruptRecordError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_CORRUPT_RECORD', message, options)
  }
}

/** A compression codec whose optional package is not installed (or cannot load here). */
export class CodecUnavailableError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_CODEC_UNAVAILABLE', message, options)
  }
}

/** A configuration option with a wrong value; the message names the option and why. */
export class ConfigError extends KafkaTsError {
  readonly option: string
  constructor(option: string, message: string) {
    super('KAFKATS_CONFIG', `${option}: ${message}`)
    this.option = option
  }
}
