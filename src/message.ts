// The message shape shared by the Writer, the Reader and the balancers (kafka-go's kafka.Message).

/** Keys, values and header values: strings are UTF-8 encoded; null is Kafka's null. */
export type Bytes = string | Uint8Array | null

export interface Header {
  key: string
  value: Bytes
}

export interface Message {
  /** The topic; on a Writer with a fixed `topic` this must be left unset. */
  topic?: string
  /** Set on messages read; ignored when writing (the balancer chooses). */
  partition?: number
  /** Set on messages read. */
  offset?: bigint
  key?: Bytes
  value: Bytes
  headers?: Header[]
  /** Milliseconds since the epoch or a Date; the Writer uses the current time when unset. */
  timestamp?: number | Date
}

/** Encode a key, value or header value to bytes (null stays null). */
export function toBytes(value: Bytes | undefined): Buffer | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}
