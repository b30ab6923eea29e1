// kafkats/streams: stream processing on kafkats' Writer and Reader, modelled on Kafka Streams.

export { Serdes, type Serde } from './serdes.js'
export { SerdeError, StreamsStateError, TopologyError } from './errors.js'
