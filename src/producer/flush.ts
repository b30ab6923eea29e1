// flush() bookkeeping: records are counted per flush generation as they are handed over, and a
// flush() waits only for the records of the generations before it, so messages written after
// the call do not hold it up.

import type { PendingRecord } from './accumulator.js'

export class FlushGenerations {
  /** The generation records handed over now belong to. */
  #epoch = 0
  /** Records not yet settled per flush generation, oldest first. */
  readonly #unsettled = new Map<number, number>()
  #waiters: { epoch: number; resolve: () => void }[] = []

  get epoch(): number {
    return this.#epoch
  }

  /** A record of the current generation was handed over. */
  added(): void {
    this.#unsettled.set(this.#epoch, (this.#unsettled.get(this.#epoch) ?? 0) + 1)
  }

  /**
   * Starts a new generation; returns a promise that resolves once every earlier record has
   * settled, or null when they all have already.
   */
  next(): Promise<void> | null {
    const epoch = ++this.#epoch
    if (this.#flushedBefore(epoch)) return null
    return new Promise<void>((resolve) => this.#waiters.push({ epoch, resolve }))
  }

  /** The records settled (written or failed): resolves the flushes waiting only for them. */
  settled(records: readonly PendingRecord[]): void {
    for (const r of records) {
      const left = (this.#unsettled.get(r.flushEpoch) ?? 1) - 1
      if (left > 0) this.#unsettled.set(r.flushEpoch, left)
      else this.#unsettled.delete(r.flushEpoch)
    }
    if (this.#waiters.length === 0) return
    const waiting = this.#waiters
    this.#waiters = waiting.filter((w) => !this.#flushedBefore(w.epoch))
    for (const w of waiting) if (this.#flushedBefore(w.epoch)) w.resolve()
  }

  /** True when no record handed over before flush generation `epoch` is unsettled. */
  #flushedBefore(epoch: number): boolean {
    // Generations only grow, so the map's first key is the oldest unsettled one.
    for (const oldest of this.#unsettled.keys()) return oldest >= epoch
    return true
  }
}
