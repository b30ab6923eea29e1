// kafkats/streams: stream processing on kafkats' Writer and Reader, modelled on Kafka Streams.

export { Serdes, type Serde } from './serdes.js'
export { SerdeError, StateStoreError, StreamsStateError, TopologyError } from './errors.js'
export { StreamsBuilder, type Consumed, type TableOptions } from './builder.js'
export {
  BranchedKStream,
  KStream,
  type GroupedOptions,
  type KeyValue,
  type Named,
  type Produced,
  type RepartitionOptions,
} from './kstream.js'
export { KTable } from './ktable.js'
export { KGroupedTable } from './grouped-table.js'
export { KGroupedStream, type Materialized } from './grouped.js'
export { Topology, type TimestampExtractor } from './topology.js'
export type {
  Cancellable,
  Change,
  DropReason,
  Processor,
  ProcessorContext,
  PunctuationType,
  StreamRecord,
} from './processor.js'
export {
  InMemoryBytesStore,
  inMemoryStore,
  type BytesStore,
  type BytesStoreSupplier,
  type KeyValueStore,
  type ReadOnlyKeyValueStore,
  type StoreContext,
} from './stores.js'
export { PersistentBytesStore, Stores, persistentStore } from './persistent-store.js'
export { TopologyTestDriver, type TestRecord } from './test-driver.js'
export {
  KafkaStreams,
  type StateListener,
  type StreamsConfig,
  type StreamsMetrics,
  type StreamsState,
} from './kafka-streams.js'
export { Suppressed } from './ktable.js'
export { SessionWindowedKStream, TimeWindowedKStream } from './windowed.js'
export { SessionWindows, TimeWindows, WindowedSerdes, type Window, type Windowed } from './windows.js'
export { JoinWindows, type StreamJoinOptions } from './stream-join.js'
