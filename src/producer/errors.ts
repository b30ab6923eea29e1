// Errors of the Writer's own making (the broker's are KafkaError, the network's are in net/errors).

import { KafkaTsError } from '../errors.js'
import { RetriesExhaustedError } from '../cluster/retry.js'
import type { ProducerBatch } from './accumulator.js'
import type { Settlement } from './sequencer.js'

/** A message the Writer cannot send as given (a topic on both Writer and message, none at all, bad types). */
export class InvalidMessageError extends KafkaTsError {
  readonly retriable = false

  constructor(message: string) {
    super('KAFKATS_INVALID_MESSAGE', message)
  }
}

/** A message larger than batchBytes (Java's RecordTooLargeException for max.request.size). */
export class MessageTooLargeError extends KafkaTsError {
  readonly retriable = false
  readonly size: number
  readonly limit: number

  constructor(size: number, limit: number) {
    super('KAFKATS_MESSAGE_TOO_LARGE', `message of about ${size} bytes exceeds batchBytes (${limit})`)
    this.size = size
    this.limit = limit
  }
}

/**
 * Records not delivered within deliveryTimeout (Java's delivery.timeout.ms). `maybeWritten` is
 * true when an attempt may have been appended and nothing could prove otherwise: the records may
 * be in the log (as with Java's TimeoutException); false means they are not.
 */
export class DeliveryTimeoutError extends KafkaTsError {
  readonly retriable = false
  readonly maybeWritten: boolean

  constructor(
    topic: string,
    partition: number,
    timeoutMs: number,
    options: { cause?: unknown; maybeWritten?: boolean } = {},
  ) {
    const maybe = options.maybeWritten === true
    super(
      'KAFKATS_DELIVERY_TIMEOUT',
      `records for ${topic}/${partition} were not delivered within ${timeoutMs} ms` +
        (maybe ? ' (an attempt may have been written: the outcome is unknown)' : ''),
      { cause: options.cause },
    )
    this.maybeWritten = maybe
  }
}

/**
 * Some messages of a writeMessages call failed (kafka-go's WriteErrors). `errors[i]` is the error
 * of the i-th message, or undefined when it was written; `cause` is the first error.
 */
export class WriteErrors extends KafkaTsError {
  readonly retriable = false
  readonly errors: readonly (Error | undefined)[]
  readonly failed: number

  constructor(errors: readonly (Error | undefined)[]) {
    const failed = errors.filter((e) => e !== undefined)
    const first = failed[0]
    super(
      'KAFKATS_WRITE_ERRORS',
      `${failed.length} of ${errors.length} message(s) failed to write: ${first?.message ?? 'unknown error'}`,
      { cause: first },
    )
    this.errors = errors
    this.failed = failed.length
  }
}

/** Distinct causes an AsyncWriteErrors keeps (the count of failed messages is always exact). */
const MAX_CAUSES = 100

/**
 * Failures of an async Writer without `completion` (review S4: nothing fails silently). The first
 * flush() or close() to finish after them rejects with this, once. `errors` holds one error per
 * distinct cause (same class, code and text), at most 100; `failed` counts every failed message.
 */
export class AsyncWriteErrors extends KafkaTsError {
  readonly retriable = false
  readonly errors: readonly Error[]
  readonly failed: number

  constructor(errors: readonly Error[], failed: number) {
    super(
      'KAFKATS_ASYNC_WRITE_ERRORS',
      `${failed} message(s) written asynchronously without a completion callback failed: ` +
        errors.map((e) => e.message).join('; '),
      { cause: errors[0] },
    )
    this.errors = errors
    this.failed = failed
  }
}

/** Collects async failures nobody listens to, until a flush() or close() takes them. */
export class UnreportedFailures {
  #errors = new Map<string, Error>()
  #failed = 0

  add(error: Error, messages: number): void {
    this.#failed += messages
    const code = (error as { code?: unknown }).code
    const key = `${error.name}\u0000${String(code)}\u0000${error.message}`
    if (this.#errors.size < MAX_CAUSES && !this.#errors.has(key)) this.#errors.set(key, error)
  }

  /** The failures so far as one error (then forgotten), or null when there were none. */
  take(): AsyncWriteErrors | null {
    if (this.#failed === 0) return null
    const error = new AsyncWriteErrors([...this.#errors.values()], this.#failed)
    this.#errors = new Map()
    this.#failed = 0
    return error
  }
}

/** A thrown value as an Error (anything may be thrown in JavaScript). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** The error a batch the sequencer settled as not written fails with. */
export function settlementError(s: Settlement<ProducerBatch> & { written: false }, deliveryTimeout: number): Error {
  const batch = s.batch
  const last = batch.errors[batch.errors.length - 1]
  if (s.why === 'attempts')
    return new RetriesExhaustedError(`producing to ${batch.topic}/${batch.partition}`, batch.errors)
  if (s.why === 'expired' || !(last instanceof Error)) {
    return new DeliveryTimeoutError(batch.topic, batch.partition, deliveryTimeout, {
      cause: last,
      maybeWritten: s.maybeWritten,
    })
  }
  return last
}

/** What a MESSAGE_TOO_LARGE answer refused: Kafka names no limit (max.message.bytes or message.max.bytes). */
export function tooLargeDetail(batch: ProducerBatch): string {
  const size = batch.encoded?.length ?? batch.bytes
  const records = batch.count === 1 ? '1 record' : `${batch.count} records`
  return (
    `a batch of ${records}, ${size} bytes encoded, is larger than the broker accepts ` +
    `(the topic's max.message.bytes, or the broker's message.max.bytes)`
  )
}
