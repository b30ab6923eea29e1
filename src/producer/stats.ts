// Writer statistics: kafka-go's WriterStats (counters and summaries since the last stats() call,
// which resets them, as kafka-go's Stats() does) plus the Java producer's headline rates computed
// over that same window.

import { Summary, type DurationStats, type SummaryStats } from '../metrics/summary.js'

export type { DurationStats, SummaryStats }

export interface WriterStats {
  /** Batches written (one per partition per Produce request), as kafka-go counts writes. */
  writes: number
  /** Produce requests sent. */
  requests: number
  /** Messages acknowledged. */
  messages: number
  /** Bytes of keys and values acknowledged. */
  bytes: number
  /** Batches that failed for good. */
  errors: number
  /** Messages that failed for good. */
  messageErrors: number
  /** From a batch's first message to its first send. */
  batchTime: DurationStats
  /** From a batch being cut to it being written (waiting for the connection, retries' backoff). */
  batchQueueTime: DurationStats
  /** Produce request latency: written to answered. */
  writeTime: DurationStats
  /** Time writeMessages waited for buffer space (backpressure). */
  waitTime: DurationStats
  /** Batches sent again. */
  retries: number
  /** Messages per batch. */
  batchSize: SummaryStats
  /** Bytes per batch. */
  batchBytes: SummaryStats
  /** Connections opened, and how long opening took (connect, versions, SASL). */
  dials: number
  dialTime: DurationStats
  /** Epoch bumps of the idempotent producer (KIP-360). */
  epochBumps: number
  /** Batches the broker refused as too large that were split in two (Java's batch-split-total). */
  batchSplits: number

  // Configuration gauges, as in kafka-go.
  maxAttempts: number
  writeBackoffMin: number
  writeBackoffMax: number
  maxBatchSize: number
  batchTimeout: number
  readTimeout: number
  writeTimeout: number
  /** 0, 1 or -1. */
  requiredAcks: number
  async: boolean
  topic: string
  clientId: string

  // Java-style rates over the window since the last stats() call.
  /** Seconds covered by this snapshot. */
  windowSeconds: number
  /** record-send-rate: messages acknowledged per second. */
  recordSendRate: number
  /** record-error-rate: messages failed per second. */
  recordErrorRate: number
  /** request-latency-avg (ms). */
  requestLatencyAvg: number
  /** request-latency-max (ms). */
  requestLatencyMax: number
  /** batch-size-avg: bytes per batch. */
  batchSizeAvg: number
  /** byte-rate: bytes of keys and values acknowledged per second. */
  byteRate: number
  /** Bytes currently buffered (not yet acknowledged). */
  bufferedBytes: number
}

export interface StatsGauges {
  maxAttempts: number
  writeBackoffMin: number
  writeBackoffMax: number
  maxBatchSize: number
  batchTimeout: number
  readTimeout: number
  writeTimeout: number
  requiredAcks: number
  async: boolean
  topic: string
  clientId: string
}

/** Collects the counters; `snapshot()` returns WriterStats and starts a new window. */
export class StatsCollector {
  writes = 0
  requests = 0
  messages = 0
  bytes = 0
  errors = 0
  messageErrors = 0
  retries = 0
  batchTime = new Summary()
  batchQueueTime = new Summary()
  writeTime = new Summary()
  waitTime = new Summary()
  batchSize = new Summary()
  batchBytes = new Summary()
  dialTime = new Summary()
  epochBumps = 0
  splits = 0
  #windowStart = Date.now()

  snapshot(gauges: StatsGauges, bufferedBytes: number, now = Date.now()): WriterStats {
    const seconds = Math.max((now - this.#windowStart) / 1000, 1e-3)
    const writeTime = this.writeTime.snapshot()
    const batchBytes = this.batchBytes.snapshot()
    const stats: WriterStats = {
      writes: this.writes,
      requests: this.requests,
      messages: this.messages,
      bytes: this.bytes,
      errors: this.errors,
      messageErrors: this.messageErrors,
      batchTime: this.batchTime.snapshot(),
      batchQueueTime: this.batchQueueTime.snapshot(),
      writeTime,
      waitTime: this.waitTime.snapshot(),
      retries: this.retries,
      batchSize: this.batchSize.snapshot(),
      batchBytes,
      dials: this.dialTime.count,
      dialTime: this.dialTime.snapshot(),
      epochBumps: this.epochBumps,
      batchSplits: this.splits,
      ...gauges,
      windowSeconds: seconds,
      recordSendRate: this.messages / seconds,
      recordErrorRate: this.messageErrors / seconds,
      requestLatencyAvg: writeTime.avg,
      requestLatencyMax: writeTime.max,
      batchSizeAvg: batchBytes.avg,
      byteRate: this.bytes / seconds,
      bufferedBytes,
    }
    this.#reset(now)
    return stats
  }

  #reset(now: number): void {
    this.writes = this.requests = this.messages = this.bytes = this.errors = this.messageErrors = this.retries = 0
    this.epochBumps = this.splits = 0
    this.batchTime = new Summary()
    this.batchQueueTime = new Summary()
    this.writeTime = new Summary()
    this.waitTime = new Summary()
    this.batchSize = new Summary()
    this.batchBytes = new Summary()
    this.dialTime = new Summary()
    this.#windowStart = now
  }
}
