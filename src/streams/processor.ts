// The processor API under the DSL: a record, what a processor sees of its task, and a processor.
// Every DSL operator is one Processor; the runtime and the TopologyTestDriver run them alike.

import type { TimestampedKeyValueStore } from './stores.js'

export interface StreamRecord<K, V> {
  key: K
  value: V
  /** Event time, ms since the epoch (the input record's timestamp unless an extractor says otherwise). */
  timestamp: number
}

/** A KTable's update: the new value and the one it replaces (null = none / deleted). */
export interface Change<V> {
  newValue: V | null
  oldValue: V | null
}

export interface ProcessorContext {
  /** `<subtopology>_<partition>`, as Kafka Streams names tasks. */
  readonly taskId: string
  readonly partition: number
  /** The topic, partition and offset of the input record being processed. */
  readonly recordTopic: string
  readonly recordOffset: bigint
  /** The largest timestamp this task has seen (-1 before any record). */
  streamTime(): number
  /** Hands a record to every child of the current node. */
  forward(record: StreamRecord<unknown, unknown>): void
  /** Hands a record to one child of the current node (by name). */
  forwardTo(child: string, record: StreamRecord<unknown, unknown>): void
  /** A key-value store the processor was connected to (timestamps are -1 unless the store keeps them). */
  keyValueStore<K, V>(name: string): TimestampedKeyValueStore<K, V>
  /** Counts a record dropped (null key, late, ...) under Kafka Streams' metric names. */
  recordDropped(reason: DropReason): void
}

export type DropReason = 'null-key-or-value' | 'late' | 'deserialization'

export interface Processor {
  init?(context: ProcessorContext): void
  process(record: StreamRecord<unknown, unknown>, context: ProcessorContext): void
}
