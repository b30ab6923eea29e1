// kafkats/broker: the reference Kafka cluster, in process.
//
//   import { Cluster } from 'kafkats/broker'
//   const cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
//   cluster.bootstrapServers   // ['127.0.0.1:40001', ...]
//   cluster.faults.stopBroker(1)
//   await cluster.stop()

export { Cluster } from './cluster.js'
export type { ClusterOptions } from './config.js'
export type { BrokerLogger } from './logger.js'
export type { Faults } from './faults.js'
export type { BrokerNode } from './broker.js'
export type { SaslMechanism, SaslOptions } from './sasl.js'
export { TopicError } from './topics.js'
export type {
  BrokerMetricsSnapshot,
  BrokerTopicMetricsSnapshot,
  ClusterMetricsSnapshot,
  RequestMetricsSnapshot,
} from './metrics.js'
export type { HistogramSnapshot, MeterSnapshot } from './meters.js'
export { renderBrokerPrometheus, serveMetrics } from './prometheus.js'
