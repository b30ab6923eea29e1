// The processor API under the DSL, also open to applications (KStream.process / processValues):
// a record, what a processor sees of its task, punctuation, and a processor. Every DSL operator
// is one Processor; the runtime and the TopologyTestDriver run them alike.

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

/**
 * When a punctuator runs (Kafka's PunctuationType): `'stream-time'` when the task's stream time
 * reaches the next multiple of the interval (aligned to 0; only records advance it);
 * `'wall-clock-time'` every interval of system time from when it was scheduled.
 */
export type PunctuationType = 'stream-time' | 'wall-clock-time'

export interface Cancellable {
  cancel(): void
}

export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  /** `<subtopology>_<partition>`, as Kafka Streams names tasks. */
  readonly taskId: string
  readonly partition: number
  /** The topic, partition and offset of the input record being processed ('' and -1 in a punctuator). */
  readonly recordTopic: string
  readonly recordOffset: bigint
  /** The largest timestamp this task has seen (-1 before any record). */
  streamTime(): number
  /** Hands a record to every child of the current node. */
  forward(record: StreamRecord<KOut, VOut>): void
  /** Hands a record to one child of the current node (by name). */
  forwardTo(child: string, record: StreamRecord<KOut, VOut>): void
  /** A key-value store the processor was connected to (timestamps are -1 unless the store keeps them). */
  keyValueStore<K, V>(name: string): TimestampedKeyValueStore<K, V>
  /** Counts a record dropped (null key, late, ...) under Kafka Streams' metric names. */
  recordDropped(reason: DropReason): void
  /**
   * Calls `punctuator(time)` every `intervalMs` of stream time or wall-clock time (the time it
   * runs at: the stream time, or the system time); it may forward records and use stores.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: (timestamp: number) => void): Cancellable
}

export type DropReason = 'null-key-or-value' | 'late' | 'deserialization'

export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  init?(context: ProcessorContext<KOut, VOut>): void
  process(record: StreamRecord<KIn, VIn>, context: ProcessorContext<KOut, VOut>): void
}
