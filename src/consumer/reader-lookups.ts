// The Reader's offset lookups (the Java consumer's names): committed offsets (OffsetFetch) and
// beginning/end offsets and offsetsForTimes (ListOffsets, list-offsets.ts). Each one stops with
// the caller's signal or the Reader's close. Split from reader.ts, which forwards to it.

import type { KafkaClient } from '../cluster/client.js'
import type { RetryPolicy } from '../cluster/retry.js'
import type { OffsetCommitter } from './commits.js'
import type { TopicPartition } from './config.js'
import { partitionKey } from './cursor.js'
import { ReaderStateError } from './errors.js'
import { listOffsets, type ListedOffset, type ListOffsetsContext } from './list-offsets.js'
import { FirstOffset, LastOffset } from './offsets.js'
import type { ReaderPositions } from './reader-positions.js'
import { abortedOf, onAnyAbort } from './wait.js'

export interface ReaderLookupsParts {
  client: KafkaClient
  /** null for a direct Reader (no committed offsets). */
  committer: OffsetCommitter | null
  positions: ReaderPositions
  isolationLevel: ListOffsetsContext['isolationLevel']
  requestTimeout: number
  backoff: RetryPolicy
  assignment: () => TopicPartition[]
  throwIfClosed: () => void
  closedSignal: AbortSignal
}

export class ReaderLookups {
  readonly #p: ReaderLookupsParts

  constructor(parts: ReaderLookupsParts) {
    this.#p = parts
  }

  async committed(
    partitions: readonly (TopicPartition | number)[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ topic: string; partition: number; offset: bigint | null }[]> {
    this.#p.throwIfClosed()
    const committer = this.#p.committer
    if (committer === null)
      throw new ReaderStateError('committed needs a consumer group (groupId); a direct Reader has no committed offsets')
    const list =
      partitions === undefined ? this.#p.assignment() : this.#p.positions.partitionsOf(partitions, 'committed')
    if (list.length === 0) return []
    const found = await this.#linked(signal, (linked) => committer.fetchCommitted(list, linked))
    return list.map((tp) => ({ ...tp, offset: found.get(partitionKey(tp.topic, tp.partition)) ?? null }))
  }

  beginningOffsets(
    partitions: readonly (TopicPartition | number)[],
    signal: AbortSignal | undefined,
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    return this.#endOffsets(partitions, FirstOffset, 'beginningOffsets', signal)
  }

  endOffsets(
    partitions: readonly (TopicPartition | number)[],
    signal: AbortSignal | undefined,
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    return this.#endOffsets(partitions, LastOffset, 'endOffsets', signal)
  }

  async offsetsForTimes(
    queries: readonly { topic: string; partition: number; timestamp: Date | number }[],
    signal: AbortSignal | undefined,
  ): Promise<ListedOffset[]> {
    this.#p.throwIfClosed()
    const asked = queries.map((q) => {
      const t = q.timestamp instanceof Date ? q.timestamp.getTime() : q.timestamp
      if (!Number.isSafeInteger(t) || t < 0)
        throw new ReaderStateError(
          `offsetsForTimes: the timestamp of ${q.topic}-${q.partition} must be a Date or epoch milliseconds >= 0, got ${String(q.timestamp)}`,
        )
      return { topic: q.topic, partition: q.partition, timestamp: BigInt(t) }
    })
    // One ListOffsets names a partition once (Java takes a Map): ask twice for two times.
    if (new Set(asked.map((q) => partitionKey(q.topic, q.partition))).size !== asked.length)
      throw new ReaderStateError('offsetsForTimes: a partition is listed twice; one time per partition and call')
    return this.#linked(signal, (linked) => listOffsets(this.#listContext(), asked, linked))
  }

  async #endOffsets(
    partitions: readonly (TopicPartition | number)[],
    timestamp: bigint,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    this.#p.throwIfClosed()
    const asked = this.#p.positions.partitionsOf(partitions, what).map((tp) => ({ ...tp, timestamp }))
    const found = await this.#linked(signal, (linked) => listOffsets(this.#listContext(), asked, linked))
    return found.map((f) => ({ topic: f.topic, partition: f.partition, offset: f.offset ?? 0n }))
  }

  /**
   * Runs `run` with one signal that fires with the caller's or the Reader's close, listening
   * explicitly (no AbortSignal.any on the long-lived close signal: see wait.ts).
   */
  async #linked<T>(signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signals = [signal, this.#p.closedSignal]
    const controller = new AbortController()
    const aborted = abortedOf(signals)
    if (aborted !== undefined) controller.abort(aborted.reason)
    const stop = onAnyAbort(signals, (s) => controller.abort(s.reason))
    try {
      return await run(controller.signal)
    } finally {
      stop()
    }
  }

  #listContext(): ListOffsetsContext {
    return {
      client: this.#p.client,
      isolationLevel: this.#p.isolationLevel,
      requestTimeout: this.#p.requestTimeout,
      policy: this.#p.backoff,
    }
  }
}
