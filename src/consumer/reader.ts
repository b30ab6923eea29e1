// The Reader (kafka-go's Reader): reads one partition directly, or joins a consumer group and
// reads what the group assigns it. Fetching runs ahead of the application into a byte-bounded
// queue (fetcher.ts), group membership runs on its own (group.ts), and commits go through one
// ordered pipeline (commits.ts). This file is the application-facing surface that ties them.
//
//   const reader = new Reader({ brokers, groupId: 'g', groupTopics: ['orders'] })
//   for await (const message of reader) { ... }          // auto-commit (see messages())
//   const m = await reader.fetchMessage({ signal })      // manual:
//   await reader.commitMessages(m)
//   await reader.close()

import type { ClientSharing, KafkaClient } from '../cluster/client.js'
import type { Message } from '../message.js'
import type { MetricsSnapshot } from '../metrics/registry.js'
import { AbortError, ClosedError } from '../net/errors.js'
import { registerOpenTelemetryMetrics } from '../telemetry/otel-metrics.js'
import { meterOf } from '../telemetry/otel-types.js'
import type { CommitMetadata } from './commits.js'
import type { ReaderConfig, TopicPartition } from './config.js'
import type { FetchedMessage } from './fetch-result.js'
import type { PartitionLag } from './fetcher.js'
import type { ListedOffset } from './list-offsets.js'
import { FirstOffset, LastOffset } from './offsets.js'
import type { MessageBatch } from './queue.js'
import { iterateReader } from './reader-iterator.js'
import { assembleReader, closeReader, type ReaderParts } from './reader-lifecycle.js'
import { runConcurrently, type RunOptions } from './run.js'
import type { ReaderStats } from './stats.js'
import { watchTopics } from './topic-watch.js'

export interface ReadOptions {
  /** Stops waiting for a message (rejects with AbortError); nothing is lost. */
  signal?: AbortSignal
}

export interface CommitOptions extends ReadOptions {
  /**
   * Commit even below the offset this member last committed (or marked, or found committed when
   * the partition was assigned), moving the group's offset back (e.g. to reprocess after a seek
   * backwards). Without it such a commit is refused with CommitRejectedError ('rewind').
   */
  allowRewind?: boolean
  /** Per partition, the metadata committed with its offset (Java's OffsetAndMetadata); default none. */
  metadata?: CommitMetadata
}

export interface IterateOptions extends ReadOptions {
  /**
   * Group mode: mark each message (batch) for commit once the loop asks for the next one
   * (default true). Leaving the loop does not mark the last one: it is read again after a
   * restart or by the partition's next owner (at-least-once). With commitInterval 0 the marks
   * are committed once per fetched batch (when the loop moves past a batch's last message or
   * would wait for more), when the loop is left, on rebalance and on close; otherwise on the
   * interval, on rebalance and on close. A mark that is refused (the partition was revoked) or a
   * commit that fails is logged, not thrown: the loop goes on.
   */
  autoCommit?: boolean
}

/**
 * Dispatched on the Reader ('error') for trouble it retries on its own: the same causes the
 * logger gets as warnings or errors, with the error. Nothing is thrown when no one listens;
 * a listener must not throw (Node reports that as an uncaught exception).
 */
export class ReaderErrorEvent extends Event {
  readonly error: Error

  constructor(error: Error) {
    super('error')
    this.error = error
  }
}

/**
 * An EventTarget: `reader.addEventListener('error', (e) => (e as ReaderErrorEvent).error)` sees
 * retriable trouble as it happens (see the `logger` option); reads still only reject for what
 * ends them.
 */
export class Reader extends EventTarget implements AsyncIterable<FetchedMessage> {
  /** The Reader's parts (reader-lifecycle.ts); the methods below forward to them. */
  readonly #p: ReaderParts
  readonly #stopOtelMetrics: (() => void) | undefined
  #closing: Promise<void> | null = null

  /** `sharing` is internal: `Kafka.reader()` passes it so the Reader uses the instance's metadata. */
  constructor(config: ReaderConfig, sharing?: ClientSharing) {
    super()
    const p = (this.#p = assembleReader(config, sharing, {
      dispatchError: (error) => this.dispatchEvent(new ReaderErrorEvent(error)),
      assignment: () => this.assignment(),
    }))
    const c = p.config
    const meter = meterOf(c.telemetry) // last: reading the metrics needs the fetcher and group
    if (meter !== null) this.#stopOtelMetrics = registerOpenTelemetryMetrics(meter, this)
    void watchTopics({
      client: p.client,
      direct: c.direct,
      topics: c.topics,
      metadataTimeout: c.metadataTimeout,
      logger: p.log,
      signal: p.reads.closedSignal,
      setUnknown: (error) => p.reads.setUnknownTopic(error),
    })
    const signal = c.signal
    if (signal !== undefined) {
      if (signal.aborted) void this.close()
      else signal.addEventListener('abort', () => void this.close(), { once: true })
    }
  }

  /** The shared client core (metadata, connections), e.g. for tests. */
  get client(): KafkaClient {
    return this.#p.client
  }

  get groupId(): string | undefined {
    return this.#p.config.groupId
  }

  /** The group's member id ('' when not in a group, or not joined yet). */
  /** The group protocol in use: 'consumer' (KIP-848) or 'classic' (also after falling back); undefined without a group. */
  get groupProtocol(): 'consumer' | 'classic' | undefined {
    return this.#p.group?.groupProtocol
  }

  get memberId(): string {
    return this.#p.group?.memberId ?? ''
  }

  /** The group generation of the current assignment (-1 when not in a group, or not joined yet). */
  get generationId(): number {
    return this.#p.group?.generationId ?? -1
  }

  /**
   * The group membership a transactional Writer's sendOffsets sends with the offsets (KIP-447,
   * Java's ConsumerGroupMetadata): the group fences a commit from an older generation.
   */
  groupMetadata(): { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null } {
    const c = this.#p.config
    return {
      groupId: c.groupId ?? '',
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: c.groupInstanceId,
    }
  }

  /**
   * Direct mode: the offset of the next message to read (kafka-go Offset); FirstOffset (-2n) or
   * LastOffset (-1n) until it is looked up. Group mode: -1n.
   */
  get offset(): bigint {
    const direct = this.#p.config.direct
    if (direct === undefined) return -1n
    const cursor = this.#p.fetcher.cursor(direct.topic, direct.partition)
    if (cursor === undefined) return -1n
    if (cursor.position >= 0n) return cursor.position
    return cursor.resetTo === FirstOffset ? FirstOffset : LastOffset
  }

  /** The partitions read now (direct mode: the one partition; group mode: the assignment). */
  assignment(): TopicPartition[] {
    if (this.#p.group !== null) return this.#p.group.assignment()
    return [{ ...this.#p.config.direct! }]
  }
  // --- reading -----------------------------------------------------------------------------------

  /**
   * The next message, waiting for one as long as it takes (or until `signal` aborts or the Reader
   * closes). Does not commit: pass it to commitMessages once processed.
   */
  fetchMessage(options: ReadOptions = {}): Promise<FetchedMessage> {
    return this.#p.reads.fetchMessage(options.signal)
  }

  /**
   * kafka-go's ReadMessage: the next message, marked as read in the group before it is returned
   * (committed at once when commitInterval is 0, else with the next periodic commit). A crash
   * while processing it loses it for the group; `for await` or fetchMessage + commitMessages give
   * at-least-once instead.
   */
  async readMessage(options: ReadOptions = {}): Promise<FetchedMessage> {
    const message = await this.fetchMessage(options)
    if (this.#p.group !== null) await this.#p.commits.markRead([message], options.signal)
    return message
  }

  /**
   * Every message of the next fetched chunk of one partition (as many as one fetch response
   * returned), waiting for one like fetchMessage. Does not commit.
   */
  async fetchBatch(options: ReadOptions = {}): Promise<MessageBatch> {
    this.#p.handOuts?.releaseAll()
    return this.#p.reads.takeBatch(options.signal)
  }

  /**
   * Calls `eachMessage` or `eachBatch` for everything read, up to `partitionsConsumedConcurrently`
   * partitions at a time, each partition in order (run.ts). A batch stays handed out until its
   * handler finished and it was marked for commit, so revocations wait for it. Resolves when
   * `signal` fires or the Reader closes (after the handlers in progress finish); rejects with the
   * first error a handler threw.
   */
  run(options: RunOptions): Promise<void> {
    return runConcurrently(
      {
        next: (signal) => this.#p.reads.takeBatch(signal),
        owned: (batch) => {
          const cursor = this.#p.fetcher.cursor(batch.topic, batch.partition)
          if (cursor === undefined || cursor.removed) return false
          const owner = cursor.owner
          return owner === null || (owner.valid && owner.id === batch.messages[0]?.assignment)
        },
        done: (batch, autoCommit) => this.#p.commits.processed(batch.messages, autoCommit),
        isEnd: (err, signal) => err instanceof ClosedError || (signal.aborted && err instanceof AbortError),
      },
      options,
    )
  }

  /** Messages as an async iterator; see IterateOptions for how they are committed. */
  messages(options: IterateOptions = {}): AsyncIterableIterator<FetchedMessage> {
    return this.#iterate(
      () => this.fetchMessage(options),
      (message, signal) => this.#p.commits.iteratedOne(message, signal),
      options,
      () => {
        const started = Date.now()
        this.#p.metrics.polled(started)
        this.#p.handOuts?.releaseAll()
        return this.#p.reads.takeMessage(started)
      },
    )
  }

  /** Per-partition batches (one fetch response's worth) as an async iterator; committed like messages(). */
  batches(options: IterateOptions = {}): AsyncIterableIterator<MessageBatch> {
    return this.#iterate(
      () => this.fetchBatch(options),
      (batch, signal) => this.#p.commits.iterated(batch.messages, signal),
      options,
    )
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<FetchedMessage> {
    return this.messages()
  }

  /**
   * `mark` marks an item the loop processed (auto-commit); `poll` takes one at once when it is
   * waiting (messages()), so that such a step awaits nothing.
   */
  #iterate<T>(
    next: () => Promise<T>,
    mark: (item: T, signal: AbortSignal | undefined) => Promise<void> | null,
    options: IterateOptions,
    poll?: () => T | undefined,
  ): AsyncIterableIterator<T> {
    const p = this.#p
    return iterateReader({
      next,
      ...(poll !== undefined ? { poll } : {}),
      autoCommit: p.group !== null && options.autoCommit !== false,
      mark: (item) => mark(item, options.signal),
      // What was processed before the item the loop left with is still owed.
      onReturn: () =>
        p.config.commitInterval === 0 && p.reads.state === 'open'
          ? p.committer?.flush(options).catch(() => {})
          : undefined,
    })
  }

  // --- committing ----------------------------------------------------------------------------------

  /**
   * Commits the messages' positions to the group: for each partition, the highest offset given
   * plus one (the next message to read). With commitInterval 0 it resolves once the coordinator
   * has them; otherwise they are marked and committed by the next periodic commit.
   *
   * A message is only committed if this member has owned its partition without a break since
   * the message was fetched (`message.assignment` says under which assignment it was): otherwise
   * (revoked in a rebalance, even one that gave the partition back; lost because the member was
   * fenced) it is rejected with CommitRejectedError, and the group's offset is left alone.
   * An offset below what this member already committed or marked for a partition is refused
   * with CommitRejectedError ('rewind') unless `{ allowRewind: true }` is passed; one equal to it
   * resolves without sending anything (it is committed already). `commitMessages([m1, m2],
   * { signal })` stops waiting when the signal fires (the commit itself still goes out).
   */
  commitMessages(...messages: Message[]): Promise<void>
  commitMessages(messages: readonly Message[], options?: CommitOptions): Promise<void>
  commitMessages(...args: unknown[]): Promise<void> {
    let messages: readonly Message[]
    let options: CommitOptions = {}
    if (Array.isArray(args[0])) {
      messages = args[0] as readonly Message[]
      options = (args[1] as CommitOptions | undefined) ?? {}
    } else {
      messages = args as Message[]
    }
    return this.#p.commits.commit(messages, options)
  }

  /**
   * Group mode: says the application is done with every record handed out so far (processed,
   * or given up on) without reading more, so a rebalance waiting for them goes ahead and the
   * maxPollInterval clock stops (franz-go's AllowRebalance). Reading again does the same.
   */
  release(): void {
    this.#p.handOuts?.releaseAll()
  }

  /** Commits what is marked now (periodic mode) and waits for it. */
  flushCommits(options: ReadOptions = {}): Promise<void> {
    return this.#p.commits.flush(options)
  }

  // --- positions -----------------------------------------------------------------------------------

  /**
   * Moves a partition's position: the next message read from it is at `offset` (or the first or
   * last one, with FirstOffset / LastOffset). What was fetched ahead is dropped. In a group the
   * partition must be assigned to this member; the position is not committed until messages are.
   */
  seek(partition: number, offset: bigint): void
  seek(topic: string, partition: number, offset: bigint): void
  seek(a: string | number, b: number | bigint, c?: bigint): void {
    this.#p.positions.seek(a, b, c)
  }

  /** kafka-go's SetOffset: direct mode only; FirstOffset, LastOffset or an offset. */
  setOffset(offset: bigint): void {
    this.#p.positions.setOffset(offset)
  }

  /**
   * kafka-go's SetOffsetAt: moves to the first message at or after `time` (or to the end when
   * there is none), in the one partition of a direct Reader or in every partition assigned now.
   * Resolves once the new positions are known.
   */
  setOffsetAt(time: Date | number, options: ReadOptions = {}): Promise<void> {
    return this.#p.positions.setOffsetAt(time, options.signal)
  }

  /** Stops fetching partitions until resume() (Java's pause); what was fetched ahead is dropped. */
  pause(partitions: readonly (TopicPartition | number)[]): void {
    this.#p.positions.pause(partitions)
  }

  resume(partitions: readonly (TopicPartition | number)[]): void {
    this.#p.positions.resume(partitions)
  }

  /** The partitions paused now. */
  paused(): TopicPartition[] {
    return this.#p.positions.paused()
  }

  // --- introspection (the Java consumer's names) ---------------------------------------------------

  /**
   * The group's committed offsets (OffsetFetch, waiting for pending transactional offsets) for
   * `partitions` (default: the assignment), in that order; offset null where none is committed.
   * Any partition may be asked for, assigned or not. Group mode only.
   */
  committed(
    partitions?: readonly (TopicPartition | number)[],
    options: ReadOptions = {},
  ): Promise<{ topic: string; partition: number; offset: bigint | null }[]> {
    return this.#p.lookups.committed(partitions, options.signal)
  }

  /**
   * The offset of the next message this Reader hands out from an assigned partition (Java's
   * position): waits while it is still being looked up (a reset or a new assignment).
   */
  position(topic: string, partition: number, options: ReadOptions = {}): Promise<bigint> {
    return this.#p.positions.position(topic, partition, options.signal)
  }

  /** The first offset of each partition (log start offset), in the order asked. Any partition, assigned or not. */
  async beginningOffsets(
    partitions: readonly (TopicPartition | number)[],
    options: ReadOptions = {},
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    return this.#p.lookups.beginningOffsets(partitions, options.signal)
  }

  /**
   * The end offset of each partition: the offset the next message written will get (under
   * read_committed, the last stable offset), in the order asked. Any partition, assigned or not.
   */
  async endOffsets(
    partitions: readonly (TopicPartition | number)[],
    options: ReadOptions = {},
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    return this.#p.lookups.endOffsets(partitions, options.signal)
  }

  /**
   * For each partition, the first message with a timestamp at or after `timestamp` (a Date or
   * epoch ms): its offset and timestamp, both null when there is none (Java's offsetsForTimes).
   * Each partition at most once per call.
   */
  offsetsForTimes(
    queries: readonly { topic: string; partition: number; timestamp: Date | number }[],
    options: ReadOptions = {},
  ): Promise<ListedOffset[]> {
    return this.#p.lookups.offsetsForTimes(queries, options.signal)
  }

  /** Per partition read: position, high watermark and lag (from the last fetch response). */
  lag(): PartitionLag[] {
    return this.#p.fetcher.lag()
  }

  /** The Java consumer's metrics (README "Monitoring"): windowed rates, totals, lag per partition; never reset. */
  metrics(): MetricsSnapshot {
    return this.#p.metrics.registry.snapshot()
  }

  /** Statistics since the last call: kafka-go's delta view, reset by every call (metrics() is not). */
  stats(): ReaderStats {
    const c = this.#p.config
    let lag = 0n
    let lagMax = 0n
    for (const l of this.#p.fetcher.lag()) {
      if (l.lag < 0n) continue
      lag += l.lag
      if (l.lag > lagMax) lagMax = l.lag
    }
    return this.#p.stats.snapshot({
      offset: c.direct !== undefined ? this.offset : -1n,
      lag,
      lagMax,
      queueLength: this.#p.queue.length,
      queueBytes: this.#p.queue.bytes,
      minBytes: c.minBytes,
      maxBytes: c.maxBytes,
      maxWait: c.maxWait,
      queueCapacity: c.queueCapacityBytes,
      clientId: this.#p.client.clientId,
      topic: c.direct?.topic ?? c.topics.join(','),
      partition: c.direct !== undefined ? String(c.direct.partition) : '',
      groupId: c.groupId ?? '',
    })
  }

  // --- closing -------------------------------------------------------------------------------------

  /**
   * Commits what is owed (marked offsets), calls onRevoke, leaves the group (LeaveGroup; not for
   * static members), stops fetching and closes the connections. Bounded by closeTimeout; reads
   * waiting now reject with ClosedError. Calls after the first return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= closeReader(this.#p).finally(() => this.#stopOtelMetrics?.())
    return this.#closing
  }
}
