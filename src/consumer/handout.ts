// Records handed out to the application and not done with yet, per partition (issue 11, item 2).
//
// "Handed out": returned by fetchMessage / fetchBatch (and so by the iterators and readMessage).
// A partition's handed-out records are *done* once any of these happens:
//   - the application asks for more: the next fetchMessage / fetchBatch call (an iterator moving
//     on, a read loop coming round) releases everything handed out before it, as Java's next
//     poll() does;
//   - they are committed or marked (commitMessages, readMessage, auto-commit) up to the highest
//     offset handed out of that partition;
//   - the application calls `reader.release()` (franz-go's AllowRebalance).
// A rebalance that takes partitions away waits (up to rebalanceTimeout) until theirs are done,
// so the next owner does not start on records this member is still processing. The poll clock
// (maxPollInterval) runs while anything is held, from the read that handed it out.

import type { TopicPartition } from './config.js'
import { partitionKey } from './cursor.js'
import { Notifier, abortedOf, type Signals } from './wait.js'

type HeldRecord = { topic: string; partition: number; offset: bigint }

export class HandOuts {
  /** Per partition key: one past the highest offset handed out and not done with. */
  readonly #held = new Map<string, bigint>()
  /**
   * The one record held when nothing else is (fetchMessage's usual case: one handed out, then
   * released by the next read), kept as it is rather than as a key and an offset in #held.
   */
  #single: HeldRecord | null = null
  readonly #changed = new Notifier()
  readonly #maxPollInterval: number
  readonly #onPollTimeout: () => void
  /** When the records held now started being held (the poll clock's start). */
  #heldSince = 0
  /**
   * One timer, re-armed only when it fires early, rather than one set and cleared per read
   * (measured: ~470 vs ~300 ns of bookkeeping per fetchMessage).
   */
  #timer: NodeJS.Timeout | null = null

  constructor(maxPollInterval: number, onPollTimeout: () => void) {
    this.#maxPollInterval = maxPollInterval
    this.#onPollTimeout = onPollTimeout
  }

  /**
   * A read returned these records (in offset order within a partition, as reads return them), at
   * `now` (the read's own clock reading, so that a hand-out adds none).
   */
  handedOut(records: readonly HeldRecord[], now: number = Date.now()): void {
    if (this.#held.size === 0 && this.#single === null) {
      this.#heldSince = now
      if (records.length === 1) {
        this.#single = records[0]!
        if (this.#timer === null) this.#arm(this.#maxPollInterval)
        return
      }
    }
    this.#spill()
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const after = records[i + 1]
      // Only the last record of a partition's run counts (a batch is one partition).
      if (after !== undefined && after.partition === r.partition && after.topic === r.topic) continue
      const key = partitionKey(r.topic, r.partition)
      const next = r.offset + 1n
      const held = this.#held.get(key)
      if (held === undefined || next > held) this.#held.set(key, next)
    }
    if (this.#held.size > 0 && this.#timer === null) this.#arm(this.#maxPollInterval)
  }

  /** Moves the single held record into #held, before anything that reads or changes #held. */
  #spill(): void {
    const r = this.#single
    if (r === null) return
    this.#single = null
    const key = partitionKey(r.topic, r.partition)
    const next = r.offset + 1n
    const held = this.#held.get(key)
    if (held === undefined || next > held) this.#held.set(key, next)
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null
      if (this.#held.size === 0 && this.#single === null) return
      const left = this.#heldSince + this.#maxPollInterval - Date.now()
      if (left > 0) this.#arm(left)
      else this.#onPollTimeout()
    }, ms)
    this.#timer.unref()
  }

  /** The application asked for more, or released explicitly: everything before is done. */
  releaseAll(): void {
    if (this.#held.size === 0 && this.#single === null) return
    this.#single = null
    if (this.#held.size > 0) this.#held.clear()
    this.#changed.notify()
  }

  /** Commits or marks: a partition is done once its highest handed-out offset is covered. */
  committed(offsets: readonly HeldRecord[]): void {
    this.#spill()
    let changed = false
    for (const o of offsets) {
      const key = partitionKey(o.topic, o.partition)
      const held = this.#held.get(key)
      if (held !== undefined && o.offset >= held) {
        this.#held.delete(key)
        changed = true
      }
    }
    if (changed) this.#changed.notify()
  }

  /** Partitions no longer this member's: what it holds of them cannot be committed anyway. */
  forget(partitions: readonly TopicPartition[]): void {
    this.#spill()
    for (const tp of partitions) this.#held.delete(partitionKey(tp.topic, tp.partition))
    this.#changed.notify()
  }

  /** The partitions among `partitions` with records handed out and not done with. */
  holding(partitions: readonly TopicPartition[]): TopicPartition[] {
    this.#spill()
    return partitions.filter((tp) => this.#held.has(partitionKey(tp.topic, tp.partition)))
  }

  /**
   * Waits until none of `partitions` is held, `timeoutMs` has passed or `signal` fires.
   * Resolves with the partitions still held (empty when all are done).
   */
  async waitDone(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
    signals: Signals,
  ): Promise<TopicPartition[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const held = this.holding(partitions)
      const left = deadline - Date.now()
      if (held.length === 0 || left <= 0 || abortedOf(signals) !== undefined) return held
      await this.#changed.wait(signals, left, 'records handed out').catch(() => {})
    }
  }

  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#single = null
    this.#held.clear()
    this.#changed.notify()
  }
}
