// The Reader's metrics under the Java consumer's names (consumer-fetch-manager-metrics,
// consumer-coordinator-metrics, consumer-metrics). Records handed out are counted in two plain
// numbers per message and folded into the windowed sensors once per fetch and when read.

import { networkMetrics } from '../metrics/network.js'
import { MetricsRegistry, type MetricValue } from '../metrics/registry.js'
import type { Sensor } from '../metrics/sensor.js'
import type { ConnectionPool } from '../net/pool.js'
import { publish } from '../telemetry/channels.js'
import type { PartitionLag } from './fetcher.js'

const FETCH = 'consumer-fetch-manager-metrics'
const COORDINATOR = 'consumer-coordinator-metrics'
const CONSUMER = 'consumer-metrics'
const LAG = 'The latest lag of the partition (records not read yet)'
const LEAD = 'The latest lead of the partition (records from the log start to the position)'

export interface ConsumerGauges {
  /** Every partition read, with its position and watermarks. */
  lags(): PartitionLag[]
  assignedPartitions(): number
  groupId: string | undefined
}

export class ConsumerMetrics {
  readonly registry: MetricsRegistry
  readonly #gauges: ConsumerGauges
  readonly #records: Sensor
  readonly #bytes: Sensor
  readonly #fetchLatency: Sensor
  readonly #fetchSize: Sensor
  readonly #lag: Sensor
  readonly #lead: Sensor
  readonly #commits: Sensor
  readonly #rebalances: Sensor
  #pendingRecords = 0
  #pendingBytes = 0
  #lastPoll = -1

  constructor(clientId: string, pool: ConnectionPool, gauges: ConsumerGauges) {
    const r = (this.registry = new MetricsRegistry('consumer', clientId))
    this.#gauges = gauges
    this.#records = r.sensor()
    this.#bytes = r.sensor()
    this.#fetchLatency = r.sensor()
    this.#fetchSize = r.sensor()
    this.#lag = r.sensor()
    this.#lead = r.sensor()
    this.#commits = r.sensor()
    this.#rebalances = r.sensor()
    const fold = (read: (now: number) => number) => (now: number) => {
      this.#fold(now)
      return read(now)
    }
    r.add(
      FETCH,
      'records-consumed-rate',
      'The average number of records consumed per second',
      'gauge',
      fold((n) => this.#records.rate(n)),
    )
    r.add(
      FETCH,
      'records-consumed-total',
      'The total number of records consumed',
      'counter',
      fold(() => this.#records.total),
    )
    r.add(
      FETCH,
      'bytes-consumed-rate',
      'The average number of bytes consumed per second',
      'gauge',
      fold((n) => this.#bytes.rate(n)),
    )
    r.add(
      FETCH,
      'bytes-consumed-total',
      'The total number of bytes consumed',
      'counter',
      fold(() => this.#bytes.total),
    )
    r.avgMax(FETCH, 'fetch-latency', 'time taken for a fetch request (ms)', this.#fetchLatency)
    r.countMeter(FETCH, 'fetch', 'fetch requests', this.#fetchLatency)
    r.avgMax(FETCH, 'fetch-size', 'number of bytes fetched per request', this.#fetchSize)
    r.add(FETCH, 'records-lag-max', 'The maximum lag in records of any partition in the window', 'gauge', (n) =>
      this.#lag.max(n),
    )
    r.add(FETCH, 'records-lead-min', 'The minimum lead in records of any partition in the window', 'gauge', (n) =>
      this.#lead.min(n),
    )
    r.declare(FETCH, 'records-lag', LAG, 'gauge')
    r.declare(FETCH, 'records-lead', LEAD, 'gauge')
    r.addFamily((_now, out) => this.#partitionGauges(out))
    r.avgMax(COORDINATOR, 'commit-latency', 'time taken for a commit request (ms)', this.#commits)
    r.countMeter(COORDINATOR, 'commit', 'commit calls', this.#commits)
    r.avgMax(COORDINATOR, 'rebalance-latency', 'time taken for a group to complete a rebalance (ms)', this.#rebalances)
    r.add(
      COORDINATOR,
      'rebalance-latency-total',
      'The total time spent in rebalances (ms)',
      'counter',
      () => this.#rebalances.total,
    )
    r.countMeter(COORDINATOR, 'rebalance', 'rebalances completed', this.#rebalances)
    r.add(
      COORDINATOR,
      'assigned-partitions',
      'The number of partitions currently assigned to this consumer',
      'gauge',
      () => gauges.assignedPartitions(),
    )
    r.add(CONSUMER, 'last-poll-seconds-ago', 'The number of seconds since the last poll', 'gauge', (n) =>
      this.#lastPoll < 0 ? -1 : (n - this.#lastPoll) / 1000,
    )
    pool.observer = networkMetrics(r, CONSUMER, () => pool.inFlight)
  }

  /** The application asked for records (fetchMessage, fetchBatch: Java's poll). */
  polled(now: number): void {
    this.#lastPoll = now
  }

  /** Records handed to the application: two additions, no clock read. */
  consumed(records: number, bytes: number): void {
    this.#pendingRecords += records
    this.#pendingBytes += bytes
  }

  /** A Fetch request to `broker` was answered after `ms` with `records` (`bytes` of them). */
  fetched(ms: number, bytes: number, records: number, broker: number): void {
    publish('fetch', () => ({ clientId: this.registry.clientId, broker, records, bytes, durationMs: ms }))
    const now = this.registry.clock()
    this.#fold(now)
    this.#fetchLatency.record(ms, now)
    this.#fetchSize.record(bytes, now)
    for (const p of this.#gauges.lags()) {
      if (p.lag >= 0n) this.#lag.record(Number(p.lag), now)
      if (p.position >= 0n && p.logStartOffset >= 0n) this.#lead.record(Number(p.position - p.logStartOffset), now)
    }
  }

  committed(ms: number): void {
    this.#commits.record(ms, this.registry.clock())
    publish('commit', () => ({ clientId: this.registry.clientId, groupId: this.#gauges.groupId, durationMs: ms }))
  }

  rebalanced(ms: number): void {
    this.#rebalances.record(ms, this.registry.clock())
    publish('rebalance', () => ({
      clientId: this.registry.clientId,
      groupId: this.#gauges.groupId,
      assignedPartitions: this.#gauges.assignedPartitions(),
      durationMs: ms,
    }))
  }

  #fold(now: number): void {
    if (this.#pendingRecords === 0) return
    this.#records.record(this.#pendingRecords, now)
    this.#bytes.record(this.#pendingBytes, now)
    this.#pendingRecords = this.#pendingBytes = 0
  }

  /** records-lag and records-lead per partition read now (no entry left behind for a partition gone). */
  #partitionGauges(out: MetricValue[]): void {
    const clientId = this.registry.clientId
    for (const p of this.#gauges.lags()) {
      const tags = { 'client-id': clientId, topic: p.topic, partition: String(p.partition) }
      if (p.lag >= 0n)
        out.push({
          name: 'records-lag',
          group: FETCH,
          description: LAG,
          type: 'gauge',
          tags,
          value: Number(p.lag),
        })
      if (p.position >= 0n && p.logStartOffset >= 0n)
        out.push({
          name: 'records-lead',
          group: FETCH,
          description: LEAD,
          type: 'gauge',
          tags,
          value: Number(p.position - p.logStartOffset),
        })
    }
  }
}
