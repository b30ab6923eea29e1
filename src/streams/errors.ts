// The typed errors of kafkats/streams. Each has a stable `code` (KafkaTsError).

import { KafkaTsError, type KafkaTsErrorOptions } from '../errors.js'

/** Bytes a deserializer cannot read, or a value a serializer cannot write. */
export class SerdeError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_STREAMS_SERDE', message, options)
  }
}

/** A topology that cannot run: a bad name, a store used twice, topics that are not co-partitioned. */
export class TopologyError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_STREAMS_TOPOLOGY', message, options)
  }
}

/** A KafkaStreams call that its state does not allow (start twice, store() before RUNNING). */
export class StreamsStateError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_STREAMS_STATE', message, options)
  }
}

/** A state store or state directory that cannot be used: the persistent store's package missing, a key over its size limit, a task directory locked by another instance. */
export class StateStoreError extends KafkaTsError {
  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_STREAMS_STORE', message, options)
  }
}
