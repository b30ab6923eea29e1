// Reader statistics: kafka-go's ReaderStats (counters and summaries since the last stats() call,
// which resets them, as kafka-go's Stats() does) plus the Java consumer's headline metrics over
// the same window (records-consumed-rate, bytes-consumed-rate, records-lag(-max),
// fetch-latency-avg/max, commit-latency-avg/max).

import { Summary, type DurationStats, type SummaryStats } from '../metrics/summary.js'
import type { ConsumerMetrics } from './metrics.js'

export type { DurationStats, SummaryStats }

export interface ReaderStats {
  /** Connections opened, and how long opening took (connect, versions, SASL). */
  dials: number
  dialTime: DurationStats
  /** Fetch requests answered. */
  fetches: number
  /** Messages handed to the application. */
  messages: number
  /** Bytes of keys, values and headers handed to the application. */
  bytes: number
  /** Rebalances this member went through (completed joins). */
  rebalances: number
  /** Fetch requests that timed out. */
  timeouts: number
  /** Failed fetches, offset lookups and commits. */
  errors: number
  /** Fetch latency: request sent to response decoded (kafka-go ReadTime). */
  readTime: DurationStats
  /** Time fetchMessage waited for a message (kafka-go WaitTime). */
  waitTime: DurationStats
  /** Messages per fetch response. */
  fetchSize: SummaryStats
  /** Bytes per fetch response (decoded payload). */
  fetchBytes: SummaryStats
  /** Commit requests sent, and their latency. */
  commits: number
  commitTime: DurationStats
  /** Direct mode: the next offset to read; group mode: -1. */
  offset: bigint
  /** Messages not yet read, summed over the partitions read (from fetch responses' high watermarks). */
  lag: bigint
  /** Messages waiting in the prefetch queue, and the memory they take (what queueCapacityBytes bounds). */
  queueLength: number
  queueBytes: number

  // Configuration gauges, as in kafka-go.
  minBytes: number
  maxBytes: number
  maxWait: number
  queueCapacity: number
  clientId: string
  topic: string
  /** Direct mode's partition as a string (kafka-go), '' in a group. */
  partition: string
  groupId: string

  // Java-style metrics over the window since the last stats() call.
  /** Seconds covered by this snapshot. */
  windowSeconds: number
  /** records-consumed-rate: messages handed out per second. */
  recordsConsumedRate: number
  /** bytes-consumed-rate. */
  bytesConsumedRate: number
  /** records-lag: the summed lag (as a number). */
  recordsLag: number
  /** records-lag-max: the largest lag of one partition. */
  recordsLagMax: number
  /** fetch-latency-avg / fetch-latency-max (ms). */
  fetchLatencyAvg: number
  fetchLatencyMax: number
  /** commit-latency-avg / commit-latency-max (ms). */
  commitLatencyAvg: number
  commitLatencyMax: number
}

export interface ReaderGauges {
  offset: bigint
  lag: bigint
  lagMax: bigint
  queueLength: number
  queueBytes: number
  minBytes: number
  maxBytes: number
  maxWait: number
  queueCapacity: number
  clientId: string
  topic: string
  partition: string
  groupId: string
}

/** Collects the counters; `snapshot()` returns ReaderStats and starts a new window. */
export class ReaderStatsCollector {
  fetches = 0
  messages = 0
  bytes = 0
  rebalances = 0
  timeouts = 0
  errors = 0
  commits = 0
  dialTime = new Summary()
  readTime = new Summary()
  waitTime = new Summary()
  fetchSize = new Summary()
  fetchBytes = new Summary()
  commitTime = new Summary()
  /** The Java-named metrics, recorded at the same points (never reset); set by the Reader. */
  metrics: ConsumerMetrics | undefined
  #windowStart = Date.now()

  snapshot(gauges: ReaderGauges, now = Date.now()): ReaderStats {
    const seconds = Math.max((now - this.#windowStart) / 1000, 1e-3)
    const readTime = this.readTime.snapshot()
    const commitTime = this.commitTime.snapshot()
    const stats: ReaderStats = {
      dials: this.dialTime.count,
      dialTime: this.dialTime.snapshot(),
      fetches: this.fetches,
      messages: this.messages,
      bytes: this.bytes,
      rebalances: this.rebalances,
      timeouts: this.timeouts,
      errors: this.errors,
      readTime,
      waitTime: this.waitTime.snapshot(),
      fetchSize: this.fetchSize.snapshot(),
      fetchBytes: this.fetchBytes.snapshot(),
      commits: this.commits,
      commitTime,
      offset: gauges.offset,
      lag: gauges.lag,
      queueLength: gauges.queueLength,
      queueBytes: gauges.queueBytes,
      minBytes: gauges.minBytes,
      maxBytes: gauges.maxBytes,
      maxWait: gauges.maxWait,
      queueCapacity: gauges.queueCapacity,
      clientId: gauges.clientId,
      topic: gauges.topic,
      partition: gauges.partition,
      groupId: gauges.groupId,
      windowSeconds: seconds,
      recordsConsumedRate: this.messages / seconds,
      bytesConsumedRate: this.bytes / seconds,
      recordsLag: Number(gauges.lag),
      recordsLagMax: Number(gauges.lagMax),
      fetchLatencyAvg: readTime.avg,
      fetchLatencyMax: readTime.max,
      commitLatencyAvg: commitTime.avg,
      commitLatencyMax: commitTime.max,
    }
    this.#reset(now)
    return stats
  }

  #reset(now: number): void {
    this.fetches = this.messages = this.bytes = this.rebalances = this.timeouts = this.errors = this.commits = 0
    this.dialTime = new Summary()
    this.readTime = new Summary()
    this.waitTime = new Summary()
    this.fetchSize = new Summary()
    this.fetchBytes = new Summary()
    this.commitTime = new Summary()
    this.#windowStart = now
  }
}
