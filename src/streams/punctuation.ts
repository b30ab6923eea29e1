// Punctuation schedules of one task (Kafka Streams' PunctuationQueue): each has the time it is
// next due; `due(now)` runs every schedule whose time has come, in due order, with `now`, and
// moves it to its next due time. When one or more intervals were missed (a gap in the data or
// a late wall-clock run), the next run is the next multiple of the interval after `now`, never
// an immediate burst of catch-up runs.

import { ConfigError } from '../errors.js'
import type { Cancellable } from './processor.js'

interface Schedule {
  due: number
  interval: number
  run: (timestamp: number) => void
  cancelled: boolean
  order: number
}

export class PunctuationQueue {
  readonly #schedules: Schedule[] = []
  #order = 0

  /** Adds a schedule first due at `firstDue`. */
  add(firstDue: number, intervalMs: number, run: (timestamp: number) => void): Cancellable {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw new ConfigError('intervalMs', `a punctuation interval must be an integer of ms >= 1, got ${intervalMs}`)
    }
    const schedule: Schedule = { due: firstDue, interval: intervalMs, run, cancelled: false, order: this.#order++ }
    this.#schedules.push(schedule)
    return {
      cancel: () => {
        schedule.cancelled = true
      },
    }
  }

  get size(): number {
    return this.#schedules.filter((s) => !s.cancelled).length
  }

  /** Runs what is due at `now`; true when something ran. */
  due(now: number): boolean {
    let ran = false
    for (;;) {
      // Earliest due first (ties: the order they were scheduled in).
      let next: Schedule | undefined
      for (const s of this.#schedules) {
        if (s.cancelled || s.due > now) continue
        if (next === undefined || s.due < next.due || (s.due === next.due && s.order < next.order)) next = s
      }
      if (next === undefined) break
      next.run(now)
      ran = true
      // A punctuator may cancel itself; otherwise it is due again one interval on (or the next
      // multiple of the interval after `now`, when runs were missed).
      const after = next.due + next.interval
      next.due = now >= after ? next.due + (Math.floor((now - next.due) / next.interval) + 1) * next.interval : after
      next.order = this.#order++
    }
    for (let i = this.#schedules.length - 1; i >= 0; i--)
      if (this.#schedules[i]!.cancelled) this.#schedules.splice(i, 1)
    return ran
  }
}
