// kafka-go's summary statistics, shared by WriterStats and ReaderStats: count, sum, min, max and
// average of the values observed since the last stats() call.

/** kafka-go's SummaryStats. */
export interface SummaryStats {
  avg: number
  min: number
  max: number
  count: number
  sum: number
}

/** kafka-go's DurationStats, in milliseconds (the same shape as SummaryStats). */
export type DurationStats = SummaryStats

export class Summary {
  count = 0
  sum = 0
  min = Infinity
  max = -Infinity

  observe(value: number): void {
    this.count++
    this.sum += value
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
  }

  snapshot(): SummaryStats {
    if (this.count === 0) return { avg: 0, min: 0, max: 0, count: 0, sum: 0 }
    return { avg: this.sum / this.count, min: this.min, max: this.max, count: this.count, sum: this.sum }
  }
}
