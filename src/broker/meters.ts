// The two metric kinds Kafka's broker reports through JMX (Yammer metrics), written for the
// reference broker: a Meter (a count and its one-minute rate) and a Histogram (request times).
//
// Meter follows Yammer's Meter: every 5 s "tick" folds the events counted since the last tick
// into an exponentially weighted moving average (alpha = 1 - e^(-5/60), the one-minute rate
// JMX shows as OneMinuteRate). Ticks are applied lazily when the meter is marked or read, so an
// idle meter costs nothing; a long idle stretch decays the rate in one step (e^(-5/60) per tick).
//
// Histogram keeps the last RESERVOIR_SIZE samples (Yammer's default reservoir holds 1028, biased
// to the last five minutes): mean, max and percentiles are over those samples, as Kafka's
// TotalTimeMs Mean/Max/99thPercentile are over its reservoir; count and sum are since start.

/** Yammer's tick interval. */
export const TICK_MS = 5000
/** Per-tick decay of the one-minute EWMA: 1 - alpha = e^(-5/60). */
const DECAY = Math.exp(-TICK_MS / 60_000)

export type Clock = () => number

export interface MeterSnapshot {
  /** Events since start (JMX `Count`). */
  count: number
  /** Events per second, one-minute EWMA (JMX `OneMinuteRate`). */
  oneMinuteRate: number
  /** Events per second since start (JMX `MeanRate`). */
  meanRate: number
}

export class Meter {
  private count = 0
  private uncounted = 0
  private rate = 0
  private initialized = false
  private readonly started: number
  private lastTick: number

  constructor(private readonly clock: Clock = Date.now) {
    this.started = clock()
    this.lastTick = this.started
  }

  /** Counts `n` events; `now` lets a caller marking several meters read the clock once. */
  mark(n = 1, now = this.clock()): void {
    this.tickIfNecessary(now)
    this.count += n
    this.uncounted += n
  }

  snapshot(): MeterSnapshot {
    const now = this.clock()
    this.tickIfNecessary(now)
    const elapsed = (now - this.started) / 1000
    return { count: this.count, oneMinuteRate: this.rate, meanRate: elapsed > 0 ? this.count / elapsed : 0 }
  }

  private tickIfNecessary(now: number): void {
    const age = now - this.lastTick
    if (age <= TICK_MS) return
    const ticks = Math.floor(age / TICK_MS)
    this.lastTick = now - (age % TICK_MS)
    // The first tick takes what was counted; every later one counted nothing and only decays.
    const instant = this.uncounted / (TICK_MS / 1000)
    this.uncounted = 0
    if (this.initialized) this.rate += (1 - DECAY) * (instant - this.rate)
    else {
      this.rate = instant
      this.initialized = true
    }
    if (ticks > 1) this.rate *= Math.pow(DECAY, ticks - 1)
  }
}

/** Samples kept for mean, max and percentiles. */
export const RESERVOIR_SIZE = 1028

export interface HistogramSnapshot {
  /** Samples since start. */
  count: number
  /** Sum of every sample since start. */
  sum: number
  /** Over the last RESERVOIR_SIZE samples (0 with none). */
  mean: number
  max: number
  /** Percentiles over the same samples, keyed by quantile (0.5, 0.75, 0.95, 0.98, 0.99, 0.999). */
  quantiles: Record<string, number>
}

/** The quantiles Yammer's JMX histogram exposes (50thPercentile ... 999thPercentile). */
export const QUANTILES = [0.5, 0.75, 0.95, 0.98, 0.99, 0.999] as const

export class Histogram {
  private readonly samples: number[] = []
  private next = 0
  private count = 0
  private sum = 0

  update(value: number): void {
    this.count++
    this.sum += value
    if (this.samples.length < RESERVOIR_SIZE) this.samples.push(value)
    else this.samples[this.next] = value
    this.next = (this.next + 1) % RESERVOIR_SIZE
  }

  snapshot(): HistogramSnapshot {
    const sorted = [...this.samples].sort((a, b) => a - b)
    const quantiles: Record<string, number> = {}
    for (const q of QUANTILES) quantiles[String(q)] = quantile(sorted, q)
    const total = sorted.reduce((a, b) => a + b, 0)
    return {
      count: this.count,
      sum: this.sum,
      mean: sorted.length > 0 ? total / sorted.length : 0,
      max: sorted[sorted.length - 1] ?? 0,
      quantiles,
    }
  }
}

/** Yammer's Snapshot.getValue: linear interpolation at quantile * (n + 1). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0
  const pos = q * (sorted.length + 1)
  if (pos < 1) return sorted[0]!
  if (pos >= sorted.length) return sorted[sorted.length - 1]!
  const lower = sorted[Math.floor(pos) - 1]!
  const upper = sorted[Math.floor(pos)]!
  return lower + (pos - Math.floor(pos)) * (upper - lower)
}
