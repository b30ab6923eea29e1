// One measured quantity, as the Java client's Sensor: every recorded value goes into a cumulative
// total and into a ring of time samples (metrics.num.samples of metrics.sample.window.ms each;
// Java's default is 2 of 30 s). Rates, averages and maxima are computed over the samples still in
// the window when read, so reading never resets anything and two scrapers never interfere.

/** Java's metrics.num.samples and metrics.sample.window.ms. */
export interface MetricsWindow {
  samples: number
  windowMs: number
}

/** Java's defaults: 2 samples of 30 s. */
export const JAVA_METRICS_WINDOW: MetricsWindow = { samples: 2, windowMs: 30_000 }

interface Sample {
  start: number
  /** When a value was last recorded in it (its start if none): what expiry is measured from. */
  lastEvent: number
  count: number
  sum: number
  max: number
  min: number
}

export class Sensor {
  /** Sum of every value ever recorded (Java's CumulativeSum). */
  total = 0
  /** Values ever recorded (Java's CumulativeCount). */
  count = 0
  readonly #window: MetricsWindow
  /**
   * Java's SampledStat cycles through samples + 1 of them (the full window plus the one being
   * filled), each made when first needed: the first at the first record or read, the next ones
   * as the window moves on. Only the first #created are in use.
   */
  readonly #samples: Sample[] = []
  #created = 0
  #current = 0

  constructor(window: MetricsWindow) {
    this.#window = window
    for (let i = 0; i <= window.samples; i++)
      this.#samples.push({ start: 0, lastEvent: 0, count: 0, sum: 0, max: 0, min: 0 })
  }

  /** Records one value (no allocation: the samples are reused in turn). */
  record(value: number, now: number): void {
    this.total += value
    this.count++
    this.#start(now)
    let s = this.#samples[this.#current]!
    if (now - s.start >= this.#window.windowMs) {
      this.#current = (this.#current + 1) % this.#samples.length
      if (this.#current >= this.#created) this.#created++
      s = this.#samples[this.#current]!
      reset(s, now)
    }
    if (s.count === 0 || value > s.max) s.max = value
    if (s.count === 0 || value < s.min) s.min = value
    s.count++
    s.sum += value
    s.lastEvent = now
  }

  /** Sum of the values in the window per second (Java's Rate over a WindowedSum). */
  rate(now: number): number {
    return this.#windowed(now, (s) => s.sum) / this.#elapsedSeconds(now)
  }

  /** Values recorded in the window per second (Java's Rate over a WindowedCount). */
  countRate(now: number): number {
    return this.#windowed(now, (s) => s.count) / this.#elapsedSeconds(now)
  }

  /** Average of the values in the window; NaN when there are none (as Java's Avg). */
  avg(now: number): number {
    const count = this.#windowed(now, (s) => s.count)
    return count === 0 ? NaN : this.#windowed(now, (s) => s.sum) / count
  }

  /** Largest value in the window; NaN when there are none (as Java's Max). */
  max(now: number): number {
    this.#purge(now)
    let max = NaN
    for (let i = 0; i < this.#created; i++) {
      const s = this.#samples[i]!
      if (s.count > 0 && !(s.max <= max)) max = s.max
    }
    return max
  }

  /** Smallest value in the window; NaN when there are none (as Java's Min). */
  min(now: number): number {
    this.#purge(now)
    let min = NaN
    for (let i = 0; i < this.#created; i++) {
      const s = this.#samples[i]!
      if (s.count > 0 && !(s.min >= min)) min = s.min
    }
    return min
  }

  #start(now: number): void {
    if (this.#created > 0) return
    this.#created = 1
    reset(this.#samples[0]!, now)
  }

  #windowed(now: number, field: (s: Sample) => number): number {
    this.#purge(now)
    let sum = 0
    for (let i = 0; i < this.#created; i++) sum += field(this.#samples[i]!)
    return sum
  }

  /**
   * Samples with nothing recorded for the whole window start again empty (Java's
   * purgeObsoleteSamples: kafka-clients 4.4 goes by a sample's last record, not its start).
   */
  #purge(now: number): void {
    this.#start(now)
    const limit = this.#window.samples * this.#window.windowMs
    for (let i = 0; i < this.#created; i++) {
      const s = this.#samples[i]!
      if (now - s.lastEvent >= limit) reset(s, now)
    }
  }

  /**
   * The time a rate divides by: from the oldest sample's start, but never less than all samples
   * but one being full (Java's Rate.windowSize), so a young sensor does not report a burst as a
   * huge rate.
   */
  #elapsedSeconds(now: number): number {
    this.#start(now)
    let oldest = now
    for (let i = 0; i < this.#created; i++) oldest = Math.min(oldest, this.#samples[i]!.start)
    const { samples, windowMs } = this.#window
    let elapsed = now - oldest
    const full = Math.floor(elapsed / windowMs)
    if (full < samples - 1) elapsed += (samples - 1 - full) * windowMs
    return Math.max(elapsed, 1) / 1000
  }
}

function reset(s: Sample, now: number): void {
  s.start = s.lastEvent = now
  s.count = s.sum = s.max = s.min = 0
}
