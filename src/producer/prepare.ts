// Checking and encoding one message for the Writer, before it is buffered: the topic, key,
// value, headers and timestamp, and what it will be charged against the buffer.

import type { Bytes, Header, Message } from '../message.js'
import { toBytes } from '../message.js'
import { RECORD_BATCH_OVERHEAD, type RecordHeader, type RecordInput } from '../protocol/record-batch.js'
import { InvalidMessageError, MessageTooLargeError } from './errors.js'

/** Per-record bytes beyond key, value and headers: the varints of a record, at their largest. */
const RECORD_OVERHEAD = 21

export interface PreparedMessage {
  topic: string
  record: RecordInput
  /** Bytes charged against the buffer (an estimate of the encoded size). */
  size: number
  /** Bytes of key + value, as kafka-go counts message bytes. */
  payloadBytes: number
}

/** Checks and encodes one message; throws InvalidMessageError / MessageTooLargeError. */
export function prepareMessage(
  message: Message,
  index: number,
  count: number,
  writerTopic: string | undefined,
  batchBytes: number,
  /** The timestamp of a message that has none (one clock read per call). */
  now: number,
): PreparedMessage {
  const which = count === 1 ? 'message' : `message ${index}`
  if (typeof message !== 'object' || message === null) throw new InvalidMessageError(`${which} is not an object`)
  if (writerTopic !== undefined && message.topic !== undefined) {
    throw new InvalidMessageError(
      `${which}: the topic is set on both the Writer ('${writerTopic}') and the message ('${message.topic}'); set it in one place`,
    )
  }
  const topic = writerTopic ?? message.topic
  if (typeof topic !== 'string' || topic === '')
    throw new InvalidMessageError(`${which} has no topic, and the Writer has none`)
  const key = bytesOf(message.key, `${which}: key`)
  const value = bytesOf(message.value, `${which}: value`)
  let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0)
  let headers: RecordHeader[] | undefined
  if (message.headers !== undefined) {
    if (!Array.isArray(message.headers))
      throw new InvalidMessageError(`${which}: headers must be an array of { key, value }`)
    headers = message.headers.map((h: Header, j) => {
      if (typeof h?.key !== 'string') throw new InvalidMessageError(`${which}: header ${j} needs a string key`)
      const v = bytesOf(h.value, `${which}: header '${h.key}' value`)
      size += Buffer.byteLength(h.key) + (v?.length ?? 0) + 10
      return { key: h.key, value: v }
    })
  }
  let timestamp: number
  if (message.timestamp === undefined) timestamp = now
  else if (message.timestamp instanceof Date) timestamp = message.timestamp.getTime()
  else timestamp = message.timestamp
  if (!Number.isSafeInteger(timestamp) || timestamp < -1)
    throw new InvalidMessageError(`${which}: timestamp must be milliseconds since the epoch or a Date`)
  if (size + RECORD_BATCH_OVERHEAD > batchBytes)
    throw new MessageTooLargeError(size + RECORD_BATCH_OVERHEAD, batchBytes)
  const record: RecordInput = headers === undefined ? { key, value, timestamp } : { key, value, headers, timestamp }
  return { topic, record, size, payloadBytes: (key?.length ?? 0) + (value?.length ?? 0) }
}

function bytesOf(value: Bytes | undefined, what: string): Buffer | null {
  if (value === undefined || value === null || typeof value === 'string' || value instanceof Uint8Array)
    return toBytes(value)
  throw new InvalidMessageError(`${what} must be a string, a Uint8Array/Buffer or null`)
}
