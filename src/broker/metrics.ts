// What one broker of the reference cluster reports, under the names and MBean groups of Kafka's
// own broker metrics (docs "Monitoring"), so dashboards built for Kafka read it unchanged:
//
//   BrokerTopicMetrics  (kafka.server)   BytesInPerSec, BytesOutPerSec, MessagesInPerSec,
//                                        Total/Failed Produce/Fetch RequestsPerSec; all topics and per topic
//   RequestMetrics      (kafka.network)  RequestsPerSec (per request and version), TotalTimeMs
//   ReplicaManager      (kafka.server)   UnderReplicatedPartitions, LeaderCount, PartitionCount,
//                                        IsrShrinksPerSec, IsrExpandsPerSec
//   KafkaController     (kafka.controller) ActiveControllerCount, OfflinePartitionsCount
//   socket-server-metrics (kafka.server) connection-count
//
// Meters and histograms are recorded as requests are handled (meters.ts); gauges are computed
// from the cluster state when a snapshot is taken. Where Kafka marks them:
// - BytesIn/MessagesIn: ReplicaManager.appendToLocalLog after a partition's append succeeded,
//   the size of the partition's records (the batch as sent) and its record count; a duplicate
//   batch answered from the producer state counts too, as on Kafka.
// - BytesOut: KafkaApis when a consumer's Fetch response is sent, the records of each partition.
// - Failed{Produce,Fetch}RequestsPerSec: per partition, only for errors Kafka treats as
//   unexpected (not UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, MESSAGE_TOO_LARGE,
//   CORRUPT_MESSAGE, leader epoch or offset-range errors...).

import { ErrorCode } from '../protocol/error-codes.js'
import { Histogram, Meter, type Clock, type HistogramSnapshot, type MeterSnapshot } from './meters.js'

const TOPIC_METERS = [
  'BytesInPerSec',
  'BytesOutPerSec',
  'MessagesInPerSec',
  'TotalProduceRequestsPerSec',
  'FailedProduceRequestsPerSec',
  'TotalFetchRequestsPerSec',
  'FailedFetchRequestsPerSec',
] as const

export type TopicMeterName = (typeof TOPIC_METERS)[number]
export type BrokerTopicMetricsSnapshot = Record<TopicMeterName, MeterSnapshot>

export interface RequestMetricsSnapshot {
  /** Requests handled, all versions (Kafka tags RequestsPerSec by version: see `versions`). */
  RequestsPerSec: MeterSnapshot
  versions: Record<number, MeterSnapshot>
  /** Milliseconds from reading the request to its response being ready. */
  TotalTimeMs: HistogramSnapshot
}

export interface BrokerMetricsSnapshot {
  brokerId: number
  running: boolean
  BrokerTopicMetrics: BrokerTopicMetricsSnapshot & { topics: Record<string, BrokerTopicMetricsSnapshot> }
  /** Keyed by Kafka's request name (ApiKeys.name): Produce, Fetch, FetchConsumer, Metadata... */
  RequestMetrics: Record<string, RequestMetricsSnapshot>
  ReplicaManager: {
    UnderReplicatedPartitions: number
    LeaderCount: number
    PartitionCount: number
    IsrShrinksPerSec: MeterSnapshot
    IsrExpandsPerSec: MeterSnapshot
  }
  /** On the active controller only (0 elsewhere), as Kafka reports them. */
  KafkaController: { ActiveControllerCount: number; OfflinePartitionsCount: number }
  /** Open client connections of this broker's listener. */
  SocketServer: { listener: string; connectionCount: number }
}

/** The cluster: every broker, and the sums an operator looks at first. */
export interface ClusterMetricsSnapshot {
  brokers: BrokerMetricsSnapshot[]
  BrokerTopicMetrics: BrokerTopicMetricsSnapshot & { topics: Record<string, BrokerTopicMetricsSnapshot> }
  UnderReplicatedPartitions: number
  OfflinePartitionsCount: number
  IsrShrinksPerSec: MeterSnapshot
  IsrExpandsPerSec: MeterSnapshot
  connectionCount: number
}

/** Partition errors Kafka answers without marking Failed*RequestsPerSec (ReplicaManager's "expected" cases). */
const EXPECTED_PRODUCE_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.RECORD_LIST_TOO_LARGE,
  ErrorCode.CORRUPT_MESSAGE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
  // Refused by KafkaApis before the replica manager (ProduceRequest.validateRecords, acks).
  ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  ErrorCode.INVALID_REQUIRED_ACKS,
])

const EXPECTED_FETCH_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.INCONSISTENT_TOPIC_ID,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.OFFSET_OUT_OF_RANGE,
])

class TopicMeters {
  readonly meters: Record<TopicMeterName, Meter>
  constructor(clock: Clock) {
    this.meters = Object.fromEntries(TOPIC_METERS.map((n) => [n, new Meter(clock)])) as Record<TopicMeterName, Meter>
  }
  snapshot(): BrokerTopicMetricsSnapshot {
    return Object.fromEntries(TOPIC_METERS.map((n) => [n, this.meters[n].snapshot()])) as BrokerTopicMetricsSnapshot
  }
}

class RequestMeters {
  readonly versions = new Map<number, Meter>()
  readonly totalTime = new Histogram()
}

/** The cluster state a snapshot's gauges are computed from (kept narrow: no Cluster import). */
export interface GaugeSource {
  running: boolean
  isController: boolean
  listener: string
  connectionCount: number
  /** Every partition: its leader, replicas and ISR. */
  partitions(): Iterable<{ leader: number; replicas: readonly number[]; isr: readonly number[] }>
}

/** The meters and histograms one broker records. */
export class BrokerMetrics {
  private readonly all: TopicMeters
  private readonly topics = new Map<string, TopicMeters>()
  private readonly requests = new Map<string, RequestMeters>()
  readonly isrShrinks: Meter
  readonly isrExpands: Meter

  constructor(
    readonly brokerId: number,
    private readonly clock: Clock = Date.now,
  ) {
    this.all = new TopicMeters(clock)
    this.isrShrinks = new Meter(clock)
    this.isrExpands = new Meter(clock)
  }

  private topic(topic: string): TopicMeters {
    let t = this.topics.get(topic)
    if (t === undefined) {
      t = new TopicMeters(this.clock)
      this.topics.set(topic, t)
    }
    return t
  }

  private mark(t: TopicMeters, name: TopicMeterName, n: number, now: number): void {
    t.meters[name].mark(n, now)
    this.all.meters[name].mark(n, now)
  }

  /** A deleted topic's meters go (Kafka's BrokerTopicStats.removeMetrics); the totals keep its counts. */
  removeTopic(topic: string): void {
    this.topics.delete(topic)
  }

  /** One partition of a Produce request (an existing partition): its error code, and what was appended. */
  produced(topic: string, errorCode: number, appended?: { bytes: number; records: number }): void {
    const t = this.topic(topic)
    const now = this.clock()
    this.mark(t, 'TotalProduceRequestsPerSec', 1, now)
    if (errorCode !== 0 && !EXPECTED_PRODUCE_ERRORS.has(errorCode)) this.mark(t, 'FailedProduceRequestsPerSec', 1, now)
    if (appended !== undefined) {
      this.mark(t, 'BytesInPerSec', appended.bytes, now)
      this.mark(t, 'MessagesInPerSec', appended.records, now)
    }
  }

  /** One partition of a Fetch response being sent: its error code and record bytes. */
  fetched(topic: string, errorCode: number, bytes: number): void {
    const t = this.topic(topic)
    const now = this.clock()
    this.mark(t, 'TotalFetchRequestsPerSec', 1, now)
    if (errorCode !== 0 && !EXPECTED_FETCH_ERRORS.has(errorCode)) this.mark(t, 'FailedFetchRequestsPerSec', 1, now)
    if (bytes > 0) this.mark(t, 'BytesOutPerSec', bytes, now)
  }

  /** A request handled: its name (Kafka's ApiKeys name), version and total time. */
  request(name: string, version: number, totalTimeMs: number): void {
    let r = this.requests.get(name)
    if (r === undefined) {
      r = new RequestMeters()
      this.requests.set(name, r)
    }
    let m = r.versions.get(version)
    if (m === undefined) {
      m = new Meter(this.clock)
      r.versions.set(version, m)
    }
    m.mark()
    r.totalTime.update(totalTimeMs)
  }

  snapshot(state: GaugeSource): BrokerMetricsSnapshot {
    const requests: Record<string, RequestMetricsSnapshot> = {}
    for (const [name, r] of [...this.requests].sort(([a], [b]) => a.localeCompare(b))) {
      const versions: Record<number, MeterSnapshot> = {}
      for (const [v, m] of [...r.versions].sort(([a], [b]) => a - b)) versions[v] = m.snapshot()
      requests[name] = {
        RequestsPerSec: sumMeters(Object.values(versions)),
        versions,
        TotalTimeMs: r.totalTime.snapshot(),
      }
    }
    const topics: Record<string, BrokerTopicMetricsSnapshot> = {}
    for (const [name, t] of [...this.topics].sort(([a], [b]) => a.localeCompare(b))) topics[name] = t.snapshot()
    let under = 0
    let leaders = 0
    let hosted = 0
    let offline = 0
    for (const p of state.partitions()) {
      if (p.leader < 0) offline++
      if (!state.running) continue
      if (p.replicas.includes(this.brokerId)) hosted++
      if (p.leader !== this.brokerId) continue
      leaders++
      // Partition.isUnderReplicated: the leader's ISR is smaller than the replica set.
      if (p.isr.length < p.replicas.length) under++
    }
    const controller = state.running && state.isController
    return {
      brokerId: this.brokerId,
      running: state.running,
      BrokerTopicMetrics: { ...this.all.snapshot(), topics },
      RequestMetrics: requests,
      ReplicaManager: {
        UnderReplicatedPartitions: under,
        LeaderCount: leaders,
        PartitionCount: hosted,
        IsrShrinksPerSec: this.isrShrinks.snapshot(),
        IsrExpandsPerSec: this.isrExpands.snapshot(),
      },
      KafkaController: { ActiveControllerCount: controller ? 1 : 0, OfflinePartitionsCount: controller ? offline : 0 },
      SocketServer: { listener: state.listener, connectionCount: state.running ? state.connectionCount : 0 },
    }
  }
}

/** Meters add up: counts, one-minute rates and mean rates are each sums. */
export function sumMeters(meters: MeterSnapshot[]): MeterSnapshot {
  const sum: MeterSnapshot = { count: 0, oneMinuteRate: 0, meanRate: 0 }
  for (const m of meters) {
    sum.count += m.count
    sum.oneMinuteRate += m.oneMinuteRate
    sum.meanRate += m.meanRate
  }
  return sum
}

function sumTopicMetrics(list: BrokerTopicMetricsSnapshot[]): BrokerTopicMetricsSnapshot {
  return Object.fromEntries(
    TOPIC_METERS.map((n) => [n, sumMeters(list.map((s) => s[n]))]),
  ) as BrokerTopicMetricsSnapshot
}

/** The cluster view: per broker, and the sums over the brokers. */
export function clusterSnapshot(brokers: BrokerMetricsSnapshot[]): ClusterMetricsSnapshot {
  const topicNames = new Set(brokers.flatMap((b) => Object.keys(b.BrokerTopicMetrics.topics)))
  const topics: Record<string, BrokerTopicMetricsSnapshot> = {}
  for (const name of [...topicNames].sort()) {
    topics[name] = sumTopicMetrics(
      brokers.flatMap((b) => {
        const t = b.BrokerTopicMetrics.topics[name]
        return t === undefined ? [] : [t]
      }),
    )
  }
  return {
    brokers,
    BrokerTopicMetrics: { ...sumTopicMetrics(brokers.map((b) => b.BrokerTopicMetrics)), topics },
    UnderReplicatedPartitions: brokers.reduce((n, b) => n + b.ReplicaManager.UnderReplicatedPartitions, 0),
    OfflinePartitionsCount: brokers.reduce((n, b) => n + b.KafkaController.OfflinePartitionsCount, 0),
    IsrShrinksPerSec: sumMeters(brokers.map((b) => b.ReplicaManager.IsrShrinksPerSec)),
    IsrExpandsPerSec: sumMeters(brokers.map((b) => b.ReplicaManager.IsrExpandsPerSec)),
    connectionCount: brokers.reduce((n, b) => n + b.SocketServer.connectionCount, 0),
  }
}
