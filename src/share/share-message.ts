// What a ShareReader hands out: a record of a share group, with how many times the group has
// delivered it, and the results of acknowledgements sent to the brokers.

import type { KafkaError } from '../errors.js'
import type { FetchedHeader } from '../consumer/fetch-result.js'

export interface ShareMessage {
  topic: string
  partition: number
  offset: bigint
  key: Buffer | null
  value: Buffer | null
  headers: FetchedHeader[]
  /** Milliseconds since the epoch (CreateTime, or LogAppendTime when the topic uses it). */
  timestamp: number
  /**
   * How many times the group has delivered this record, this delivery included (1 the first
   * time; a released record, or one whose acquisition lock ran out, comes back with one more).
   */
  deliveryCount: number
}

/** How the acknowledgements of one partition, sent in one request, ended. */
export interface AcknowledgementResult {
  topic: string
  partition: number
  /** Offsets acknowledged by the request (accepted, released, rejected, and gaps). */
  offsets: number
  /** null when the broker applied them; else why not (the records come back after their lock runs out). */
  error: KafkaError | null
}
