// The error classes every layer throws. Each carries a stable string `code` and is recognised
// across copies of the package through a Symbol.for brand (two installed copies of kafkats
// still see each other's errors as KafkaTsError), the way undici does it.

import { errorInfo, type ErrorCodeInfo } from './protocol/error-codes.js'

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

// ---------------------------------------------------------------------------------------------
// Errors a broker returned. (The import sits here, not at the top, so that this section stays a
// pure append; ES imports are hoisted, so where it sits does not matter.)

/** Where a broker error happened; every field is optional and only the given ones are kept. */
export interface KafkaErrorContext {
  /** Node id of the broker that answered. */
  broker?: number
  topic?: string
  partition?: number
  groupId?: string
  /** The request that failed, e.g. 'Produce', 'JoinGroup'. */
  apiName?: string
  /** The response's own error_message, when it has one; shown instead of Kafka's default text. */
  errorMessage?: string | null
  cause?: unknown
}

/**
 * An error code a Kafka broker returned in a response. `code` is `KAFKA_<NAME>`
 * (e.g. 'KAFKA_NOT_LEADER_OR_FOLLOWER'); `errorCode`/`errorName` are Kafka's own.
 */
export class KafkaError extends KafkaTsError {
  readonly errorCode: number
  readonly errorName: string
  /** The same request may succeed if sent again (Kafka's RetriableException). */
  readonly retriable: boolean
  /** The client's metadata is out of date: refresh it before retrying (InvalidMetadataException). */
  readonly staleMetadata: boolean
  // `declare`: no own property unless the context gave one (exactOptionalPropertyTypes).
  declare readonly broker?: number
  declare readonly topic?: string
  declare readonly partition?: number
  declare readonly groupId?: string
  declare readonly apiName?: string
  /** The broker's error_message for this error, when the response carried one. */
  declare readonly errorMessage?: string

  constructor(info: ErrorCodeInfo, context: KafkaErrorContext = {}) {
    const detail = context.errorMessage ? context.errorMessage : info.message
    const where: string[] = []
    if (context.apiName !== undefined) where.push(`api=${context.apiName}`)
    if (context.groupId !== undefined) where.push(`group=${context.groupId}`)
    if (context.topic !== undefined) where.push(`topic=${context.topic}`)
    if (context.partition !== undefined) where.push(`partition=${context.partition}`)
    if (context.broker !== undefined) where.push(`broker=${context.broker}`)
    const message =
      `${info.name} (${info.code})` + (detail ? `: ${detail}` : '') + (where.length > 0 ? ` [${where.join(' ')}]` : '')
    super(`KAFKA_${info.name}`, message, context.cause === undefined ? undefined : { cause: context.cause })
    this.errorCode = info.code
    this.errorName = info.name
    this.retriable = info.retriable
    this.staleMetadata = info.staleMetadata === true
    const self = this as {
      -readonly [K in 'broker' | 'topic' | 'partition' | 'groupId' | 'apiName' | 'errorMessage']?: KafkaError[K]
    }
    if (context.broker !== undefined) self.broker = context.broker
    if (context.topic !== undefined) self.topic = context.topic
    if (context.partition !== undefined) self.partition = context.partition
    if (context.groupId !== undefined) self.groupId = context.groupId
    if (context.apiName !== undefined) self.apiName = context.apiName
    if (context.errorMessage) self.errorMessage = context.errorMessage
  }

  /** The error for a response's error code; unknown codes give a non-retriable UNKNOWN_ERROR_CODE. */
  static fromCode(code: number, context?: KafkaErrorContext): KafkaError {
    return new KafkaError(errorInfo(code), context)
  }
}

/**
 * Whether sending the same request again may succeed. True for a KafkaError whose code is
 * retriable, and for any other kafkats error that carries `retriable: true`: that boolean
 * property is the extension point (network and timeout errors opt in by declaring
 * `readonly retriable: boolean`). Anything else, including errors from outside kafkats, is false.
 */
export function isRetriable(err: unknown): boolean {
  return err instanceof KafkaTsError && (err as { retriable?: unknown }).retriable === true
}
