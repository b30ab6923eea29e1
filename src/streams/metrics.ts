// KafkaStreams' metrics under Kafka Streams' names (stream-thread-metrics, stream-task-metrics
// at the instance level: one processing loop per instance is kafkats' "thread"), in the same
// registry as the clients' so renderPrometheus, registerPrometheus and the OpenTelemetry bridge
// export them (`kafka_streams_process_rate`, ...). Recorded per batch and per commit.

import { MetricsRegistry } from '../metrics/registry.js'
import type { Sensor } from '../metrics/sensor.js'

const THREAD = 'stream-thread-metrics'
const TASK = 'stream-task-metrics'

export class StreamsMetricsRecorder {
  readonly registry: MetricsRegistry
  readonly #process: Sensor
  readonly #commit: Sensor
  readonly #dropped: Sensor
  readonly #restored: Sensor
  readonly #created: Sensor
  readonly #closed: Sensor

  constructor(clientId: string, tasks: () => number) {
    const r = (this.registry = new MetricsRegistry('streams', clientId))
    this.#process = r.sensor()
    this.#commit = r.sensor()
    this.#dropped = r.sensor()
    this.#restored = r.sensor()
    this.#created = r.sensor()
    this.#closed = r.sensor()
    r.meter(THREAD, 'process', 'records processed', this.#process)
    r.countMeter(THREAD, 'commit', 'commits', this.#commit)
    r.avgMax(THREAD, 'commit-latency', 'commit latency (ms)', this.#commit)
    r.countMeter(THREAD, 'task-created', 'tasks created', this.#created)
    r.countMeter(THREAD, 'task-closed', 'tasks closed', this.#closed)
    r.add(THREAD, 'active-tasks', 'The number of tasks this instance processes', 'gauge', () => tasks())
    r.meter(TASK, 'dropped-records', 'records dropped (null key or value, late, invalid timestamp)', this.#dropped)
    r.meter(TASK, 'restore', 'changelog records restored', this.#restored)
  }

  processed(records: number): void {
    this.#process.record(records, this.registry.clock())
  }

  committed(latencyMs: number): void {
    this.#commit.record(latencyMs, this.registry.clock())
  }

  dropped(): void {
    this.#dropped.record(1, this.registry.clock())
  }

  restored(records: number): void {
    this.#restored.record(records, this.registry.clock())
  }

  taskCreated(): void {
    this.#created.record(1, this.registry.clock())
  }

  taskClosed(count: number): void {
    const now = this.registry.clock()
    for (let i = 0; i < count; i++) this.#closed.record(1, now)
  }
}
