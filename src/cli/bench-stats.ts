// What `kafkats bench` measures and prints: message and byte counts, rates, and latencies in
// whole milliseconds (record timestamps are milliseconds, as kafka-producer-perf-test's are).
// Latencies go into a fixed histogram of one bucket per millisecond up to a minute plus one
// overflow bucket, so a run of any length holds bounded memory and percentiles are exact to the
// millisecond below a minute.

/** Buckets 0..MAX_MS-1 are one millisecond each; the last one holds everything slower. */
const MAX_MS = 60_000

export class LatencyHistogram {
  readonly #counts = new Float64Array(MAX_MS + 1)
  count = 0
  #sum = 0
  #max = 0

  record(ms: number): void {
    const v = Math.max(0, Math.round(ms))
    this.#counts[Math.min(v, MAX_MS)]!++
    this.count++
    this.#sum += v
    if (v > this.#max) this.#max = v
  }

  /** The smallest latency at or above which `q` of the samples lie below (nearest rank); null when empty. */
  percentile(q: number): number | null {
    if (this.count === 0) return null
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let ms = 0; ms <= MAX_MS; ms++) {
      seen += this.#counts[ms]!
      if (seen >= rank) return ms === MAX_MS ? this.#max : ms
    }
    return this.#max
  }

  summary(): LatencySummary | null {
    if (this.count === 0) return null
    return {
      avg: round(this.#sum / this.count, 2),
      p50: this.percentile(0.5)!,
      p99: this.percentile(0.99)!,
      p999: this.percentile(0.999)!,
      max: this.#max,
    }
  }
}

export interface LatencySummary {
  avg: number
  p50: number
  p99: number
  p999: number
  max: number
}

export interface BenchSummary {
  mode: 'produce' | 'consume'
  topic: string
  messages: number
  /** Bytes of keys and values. */
  bytes: number
  /** Messages that failed (produce). */
  errors: number
  /** produce: from the start to the last acknowledgement; consume: from the first message to the last. */
  elapsedMs: number
  messagesPerSec: number
  /** MiB per second, as Kafka's perf tools count MB (1024 × 1024 bytes). */
  mbPerSec: number
  /** produce: from write to acknowledgement; consume: from the record's timestamp to its receipt (end to end). */
  latencyMs: LatencySummary | null
  /** consume: from the start to the first message (joining a group, first fetch). */
  firstMessageMs?: number | null
}

/** Counters of a run in progress; the progress display and the summary read them. */
export class BenchCounters {
  readonly started = performance.now()
  messages = 0
  bytes = 0
  errors = 0
  readonly latency = new LatencyHistogram()
  /** When the first and the last messages were counted (performance.now()). */
  firstAt: number | null = null
  lastAt = this.started

  add(messages: number, bytes: number): void {
    if (messages === 0) return
    this.firstAt ??= performance.now()
    this.messages += messages
    this.bytes += bytes
    this.lastAt = performance.now()
  }

  elapsedMs(now = performance.now()): number {
    return now - this.started
  }

  /**
   * Rates over the run from its start (produce: sending starts at once), or from the first
   * message (consume: joining a group or the first fetch is not reading, as in
   * kafka-consumer-perf-test; `firstMessageMs` reports it).
   */
  summary(mode: BenchSummary['mode'], topic: string): BenchSummary {
    const from = mode === 'consume' ? (this.firstAt ?? this.started) : this.started
    const elapsedMs = Math.max(1, this.lastAt - from)
    return {
      mode,
      topic,
      messages: this.messages,
      bytes: this.bytes,
      errors: this.errors,
      elapsedMs: Math.round(elapsedMs),
      messagesPerSec: round((this.messages * 1000) / elapsedMs, 1),
      mbPerSec: round((this.bytes * 1000) / elapsedMs / MIB, 3),
      latencyMs: this.latency.summary(),
    }
  }
}

const MIB = 1024 * 1024

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** The summary for people, in the spirit of kafka-producer-perf-test's last line. */
export function describeSummary(s: BenchSummary): string[] {
  const lines = [
    `${s.messages} messages (${(s.bytes / MIB).toFixed(2)} MB) in ${(s.elapsedMs / 1000).toFixed(2)} s: ` +
      `${s.messagesPerSec.toFixed(1)} msg/s, ${s.mbPerSec.toFixed(2)} MB/s` +
      (s.errors > 0 ? `, ${s.errors} failed` : ''),
  ]
  const l = s.latencyMs
  const what = s.mode === 'produce' ? 'ack latency' : 'end-to-end latency'
  if (l !== null) lines.push(`${what} ms: avg ${l.avg}, p50 ${l.p50}, p99 ${l.p99}, p99.9 ${l.p999}, max ${l.max}`)
  if (s.firstMessageMs !== undefined && s.firstMessageMs !== null)
    lines.push(`first message after ${s.firstMessageMs} ms`)
  return lines
}
