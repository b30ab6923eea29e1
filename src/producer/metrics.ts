// The Writer's metrics under the Java producer's names (producer-metrics and
// producer-topic-metrics), recorded once per batch or request, never per record.

import { networkMetrics } from '../metrics/network.js'
import { MetricsRegistry } from '../metrics/registry.js'
import type { Sensor } from '../metrics/sensor.js'
import type { ConnectionPool } from '../net/pool.js'
import { RECORD_BATCH_OVERHEAD } from '../protocol/record-batch.js'
import { publish } from '../telemetry/channels.js'
import type { ProducerBatch } from './accumulator.js'

const GROUP = 'producer-metrics'
const TOPIC_GROUP = 'producer-topic-metrics'

interface TopicSensors {
  sends: Sensor
  bytes: Sensor
  errors: Sensor
  retries: Sensor
  compression: Sensor
}

/** producer-topic-metrics meters: name, what is counted, the sensor. */
const TOPIC_METERS = [
  ['record-send', 'records sent for a topic', 'sends'],
  ['byte', 'bytes sent for a topic', 'bytes'],
  ['record-error', 'record sends that resulted in errors for a topic', 'errors'],
  ['record-retry', 'retried record sends for a topic', 'retries'],
] as const
const TOPIC_COMPRESSION = 'The average compression rate of record batches for a topic'

export class ProducerMetrics {
  readonly registry: MetricsRegistry
  readonly #compressed: boolean
  readonly #sends: Sensor
  readonly #errors: Sensor
  readonly #retries: Sensor
  readonly #latency: Sensor
  readonly #batchSize: Sensor
  readonly #compression: Sensor
  readonly #recordsPerRequest: Sensor
  /** One entry per topic written: as many as the application names. */
  readonly #topics = new Map<string, TopicSensors>()

  constructor(clientId: string, pool: ConnectionPool, compression: string) {
    const r = (this.registry = new MetricsRegistry('producer', clientId))
    this.#compressed = compression !== 'none'
    this.#sends = r.sensor()
    this.#errors = r.sensor()
    this.#retries = r.sensor()
    this.#latency = r.sensor()
    this.#batchSize = r.sensor()
    this.#compression = r.sensor()
    this.#recordsPerRequest = r.sensor()
    r.meter(GROUP, 'record-send', 'records sent', this.#sends)
    r.meter(GROUP, 'record-error', 'record sends that resulted in errors', this.#errors)
    r.meter(GROUP, 'record-retry', 'retried record sends', this.#retries)
    r.avgMax(GROUP, 'request-latency', 'Produce request latency (ms)', this.#latency)
    r.avgMax(GROUP, 'batch-size', 'number of bytes sent per partition per request', this.#batchSize)
    r.add(GROUP, 'compression-rate-avg', 'The average compression rate of record batches', 'gauge', (n) =>
      this.#compression.avg(n),
    )
    r.add(GROUP, 'records-per-request-avg', 'The average number of records per request', 'gauge', (n) =>
      this.#recordsPerRequest.avg(n),
    )
    pool.observer = networkMetrics(r, GROUP, () => pool.inFlight)
    for (const [base, what] of TOPIC_METERS) r.declareMeter(TOPIC_GROUP, base, what)
    r.declare(TOPIC_GROUP, 'compression-rate', TOPIC_COMPRESSION, 'gauge')
  }

  /** One Produce request goes out with these (encoded) batches. */
  sent(batches: readonly ProducerBatch[]): void {
    const now = this.registry.clock()
    let records = 0
    for (const b of batches) {
      const size = b.encoded?.length ?? b.bytes
      // Java's compressionRatio: compressed over uncompressed size; exactly 1 without compression.
      const ratio = this.#compressed ? size / (b.bytes + RECORD_BATCH_OVERHEAD) : 1
      const t = this.#topic(b.topic)
      records += b.count
      this.#sends.record(b.count, now)
      this.#batchSize.record(size, now)
      this.#compression.record(ratio, now)
      t.sends.record(b.count, now)
      t.bytes.record(size, now)
      t.compression.record(ratio, now)
    }
    this.#recordsPerRequest.record(records, now)
  }

  /** A Produce request was answered after `ms`. */
  answered(ms: number): void {
    this.#latency.record(ms, this.registry.clock())
  }

  /** A batch is sent again. */
  retried(batch: ProducerBatch): void {
    const now = this.registry.clock()
    this.#retries.record(batch.count, now)
    this.#topic(batch.topic).retries.record(batch.count, now)
  }

  /** A batch was acknowledged (only the diagnostics channel: sends were counted when sent). */
  completed(batch: ProducerBatch, baseOffset: bigint): void {
    publish('produce', () => this.#produced(batch, baseOffset, null))
  }

  /** A batch failed for good. */
  failed(batch: ProducerBatch, error: Error): void {
    const now = this.registry.clock()
    this.#errors.record(batch.count, now)
    this.#topic(batch.topic).errors.record(batch.count, now)
    publish('produce', () => this.#produced(batch, -1n, error))
  }

  #produced(batch: ProducerBatch, baseOffset: bigint, error: Error | null): object {
    const { topic, partition, count: records } = batch
    return { clientId: this.registry.clientId, topic, partition, records, baseOffset, error }
  }

  #topic(topic: string): TopicSensors {
    let t = this.#topics.get(topic)
    if (t !== undefined) return t
    const r = this.registry
    t = { sends: r.sensor(), bytes: r.sensor(), errors: r.sensor(), retries: r.sensor(), compression: r.sensor() }
    const tags = { topic }
    for (const [base, what, sensor] of TOPIC_METERS) r.meter(TOPIC_GROUP, base, what, t[sensor], tags)
    const compression = t.compression
    r.add(TOPIC_GROUP, 'compression-rate', TOPIC_COMPRESSION, 'gauge', (n) => compression.avg(n), tags)
    this.#topics.set(topic, t)
    return t
  }
}
