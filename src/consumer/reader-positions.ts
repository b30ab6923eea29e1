// The Reader's positions: seek, setOffsetAt, pause/resume and position() on the fetcher's
// cursors, and how the application names a partition (a bare number means the Reader's one
// topic). Split from reader.ts, which forwards to it.

import type { TopicPartition } from './config.js'
import type { PartitionCursor } from './cursor.js'
import { ReaderStateError } from './errors.js'
import type { Fetcher } from './fetcher.js'
import { startOffsetTimestamp } from './offsets.js'

export interface ReaderPositionsParts {
  fetcher: Fetcher
  /** Direct mode: the one partition read. */
  direct: TopicPartition | undefined
  topics: readonly string[]
  /** The partitions read now. */
  assignment: () => TopicPartition[]
  /** Marks what messages() holds back, so a seek comes after the marks made before it. */
  markUnmarked: () => void
  throwIfClosed: () => void
  closedSignal: AbortSignal
}

export class ReaderPositions {
  readonly #p: ReaderPositionsParts

  constructor(parts: ReaderPositionsParts) {
    this.#p = parts
  }

  /** seek(partition, offset) or seek(topic, partition, offset) (see its comment in reader.ts). */
  seek(a: string | number, b: number | bigint, c?: bigint): void {
    const [topic, partition, offset] =
      typeof a === 'string' ? [a, b as number, c!] : [this.#singleTopic('seek'), a, b as bigint]
    if (typeof offset !== 'bigint' || offset < -2n)
      throw new ReaderStateError(
        `seek: the offset must be a bigint >= 0, FirstOffset or LastOffset, got ${String(offset)}`,
      )
    this.#p.markUnmarked()
    this.#p.fetcher.seek(this.cursorFor(topic, partition, 'seek'), offset)
  }

  setOffset(offset: bigint): void {
    const direct = this.#p.direct
    if (direct === undefined)
      throw new ReaderStateError(
        'setOffset is for a direct Reader (topic + partition); in a group use seek(topic, partition, offset)',
      )
    this.seek(direct.topic, direct.partition, offset)
  }

  async setOffsetAt(time: Date | number, signal: AbortSignal | undefined): Promise<void> {
    this.#p.throwIfClosed()
    const timestamp = startOffsetTimestamp(time instanceof Date ? time : Math.trunc(time))
    if (timestamp < 0n)
      throw new ReaderStateError(
        'setOffsetAt needs a time (a Date or epoch milliseconds), not FirstOffset/LastOffset; use seek',
      )
    const signals = [signal, this.#p.closedSignal]
    const cursors = this.#p.assignment().map((tp) => this.cursorFor(tp.topic, tp.partition, 'setOffsetAt'))
    this.#p.markUnmarked()
    for (const cursor of cursors) this.#p.fetcher.seek(cursor, timestamp, true)
    for (const cursor of cursors) await this.#p.fetcher.resolved(cursor, signals)
  }

  pause(partitions: readonly (TopicPartition | number)[]): void {
    for (const tp of this.partitionsOf(partitions, 'pause'))
      this.#p.fetcher.pause(this.cursorFor(tp.topic, tp.partition, 'pause'))
  }

  resume(partitions: readonly (TopicPartition | number)[]): void {
    for (const tp of this.partitionsOf(partitions, 'resume')) {
      const cursor = this.#p.fetcher.cursor(tp.topic, tp.partition)
      if (cursor !== undefined) this.#p.fetcher.resume(cursor)
    }
  }

  paused(): TopicPartition[] {
    return [...this.#p.fetcher.cursors()]
      .filter((c) => c.paused)
      .map((c) => ({ topic: c.topic, partition: c.partition }))
  }

  async position(topic: string, partition: number, signal: AbortSignal | undefined): Promise<bigint> {
    this.#p.throwIfClosed()
    const cursor = this.cursorFor(topic, partition, 'position')
    await this.#p.fetcher.resolved(cursor, [signal, this.#p.closedSignal])
    return cursor.position
  }

  /** A bare partition number names a partition of the Reader's one topic. */
  partitionsOf(partitions: readonly (TopicPartition | number)[], what: string): TopicPartition[] {
    return partitions.map((p) => (typeof p === 'number' ? { topic: this.#singleTopic(what), partition: p } : p))
  }

  /** The cursor of a partition assigned to this Reader; `what` names the call in the error. */
  cursorFor(topic: string, partition: number, what: string): PartitionCursor {
    const cursor = this.#p.fetcher.cursor(topic, partition)
    if (cursor === undefined)
      throw new ReaderStateError(`${what}: partition ${topic}-${partition} is not assigned to this Reader`)
    return cursor
  }

  #singleTopic(what: string): string {
    const direct = this.#p.direct
    if (direct !== undefined) return direct.topic
    if (this.#p.topics.length === 1) return this.#p.topics[0]!
    throw new ReaderStateError(`${what}: the Reader reads several topics; name the topic`)
  }
}
