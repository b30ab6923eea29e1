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

import { KafkaClient, type ClientSharing } from '../cluster/client.js'
import type { RetryPolicy } from '../cluster/retry.js'
import { createDefaultLogger, safeLogger, type LogFields, type Logger } from '../logger.js'
import type { Message } from '../message.js'
import type { MetricsSnapshot } from '../metrics/registry.js'
import { AbortError, ClosedError, abortErrorFor } from '../net/errors.js'
import { OffsetCommitter, highestPerPartition, pastSkipped, withMetadata } from './commits.js'
import type { CommitMetadata, CommitOffset } from './commits.js'
import { resolveReaderConfig, type ReaderConfig, type ResolvedReaderConfig, type TopicPartition } from './config.js'
import { Coordinator } from './coordinator.js'
import type { UnknownTopicError } from './errors.js'
import { CommitRejectedError, PollIntervalExceededError, ReaderStateError } from './errors.js'
import type { FetchedMessage } from './fetch-result.js'
import { Fetcher, type PartitionLag } from './fetcher.js'
import { runConcurrently, type RunOptions } from './run.js'
import { partitionKey } from './cursor.js'
import { watchTopics } from './topic-watch.js'
import { createMembership } from './create-membership.js'
import type { GroupHooks } from './group.js'
import type { Membership } from './membership.js'
import { HandOuts } from './handout.js'
import { ConsumerMetrics } from './metrics.js'
import { ConsumerTracing } from '../telemetry/consumer-tracing.js'
import { registerOpenTelemetryMetrics } from '../telemetry/otel-metrics.js'
import { meterOf, tracerOf } from '../telemetry/otel-types.js'
import { listOffsets, type ListedOffset, type ListOffsetsContext } from './list-offsets.js'
import { FirstOffset, LastOffset, startOffsetTimestamp } from './offsets.js'
import { MessageQueue, type MessageBatch } from './queue.js'
import { ReaderStatsCollector, type ReaderStats } from './stats.js'
import { abortedOf, deadlineSignal, onAnyAbort } from './wait.js'

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

type ReaderState = 'open' | 'closing' | 'closed'

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
  readonly #config: ResolvedReaderConfig
  readonly #client: KafkaClient
  readonly #queue: MessageQueue
  readonly #stats = new ReaderStatsCollector()
  readonly #metrics: ConsumerMetrics
  readonly #tracing: ConsumerTracing | null
  readonly #stopOtelMetrics: (() => void) | undefined
  readonly #fetcher: Fetcher
  readonly #group: Membership | null = null
  readonly #committer: OffsetCommitter | null = null
  /** messages(): the last message the loop processed, not marked yet (see #iteratedOne). */
  #unmarked: FetchedMessage | null = null
  /** Group mode: records handed out and not done with (rebalances and maxPollInterval wait on them). */
  readonly #handOuts: HandOuts | null = null
  /** Aborted when the Reader closes: wakes every waiting read. */
  readonly #closed = new AbortController()
  #state: ReaderState = 'open'
  #closing: Promise<void> | null = null
  /** A failure that ended the Reader (thrown by every read). */
  #fatal: Error | null = null
  /** Errors to throw once from the next read (a rebalance callback failed). */
  #reported: Error[] = []
  #commitTimer: NodeJS.Timeout | null = null
  readonly #log: Logger
  readonly #backoff: RetryPolicy
  /** Direct mode: the topic or partition is missing past metadataTimeout; reads reject with it. */
  #unknownTopic: UnknownTopicError | null = null

  /** `sharing` is internal: `Kafka.reader()` passes it so the Reader uses the instance's metadata. */
  constructor(config: ReaderConfig, sharing?: ClientSharing) {
    super()
    const c = (this.#config = resolveReaderConfig(config))
    this.#log = safeLogger(c.logger ?? createDefaultLogger(), (fields) => this.#dispatchError(fields)).child({
      client: 'reader',
      ...(c.groupId !== undefined ? { groupId: c.groupId } : {}),
    })
    this.#client = new KafkaClient(c.client, sharing)
    this.#client.pool.onDial = (ms) => this.#stats.dialTime.observe(ms)
    this.#metrics = this.#stats.metrics = new ConsumerMetrics(this.#client.clientId, this.#client.pool, {
      lags: () => this.#fetcher.lag(),
      assignedPartitions: () => this.assignment().length,
      groupId: c.groupId,
    })
    const tracer = tracerOf(c.telemetry)
    this.#tracing = tracer === null ? null : new ConsumerTracing(tracer, this.#client.clientId, c.groupId)
    const backoff: RetryPolicy = {
      maxAttempts: c.maxAttempts,
      backoffMs: c.readBackoffMin,
      backoffMaxMs: c.readBackoffMax,
      jitter: 0.2,
    }
    this.#backoff = backoff
    this.#queue = new MessageQueue(c.queueCapacityBytes)
    this.#fetcher = new Fetcher({
      client: this.#client,
      queue: this.#queue,
      stats: this.#stats,
      isolationLevel: c.isolationLevel,
      checkCrcs: c.checkCrcs,
      fetchSessions: c.fetchSessions,
      rack: c.rack,
      minBytes: c.minBytes,
      maxBytes: c.maxBytes,
      partitionMaxBytes: c.partitionMaxBytes,
      maxWait: c.maxWait,
      requestTimeout: c.requestTimeout,
      resetTo: c.startOffset,
      backoff,
      logger: this.#log,
    })

    if (c.direct !== undefined) {
      this.#client.metadata.addTopics([c.direct.topic])
      this.#fetcher.assign([{ ...c.direct, offset: null, resetTo: c.startOffset }])
    } else {
      this.#client.metadata.addTopics(c.topics)
      const coordinator = new Coordinator(this.#client, c.groupId!, backoff, this.#log)
      const handOuts = new HandOuts(c.maxPollInterval, () => {
        this.#group?.leaveForPollTimeout(new PollIntervalExceededError(c.maxPollInterval))
      })
      this.#handOuts = handOuts
      const hooks: GroupHooks = {
        // KIP-320: a start from a committed offset is validated against the epoch committed with it.
        assign: (starts) =>
          this.#fetcher.assign(
            starts.map((s) => ({
              ...s,
              leaderEpoch: this.#committer?.committedLeaderEpoch(s.topic, s.partition) ?? -1,
            })),
          ),
        revoke: (partitions) => {
          this.#fetcher.revoke(partitions)
          handOuts.forget(partitions)
        },
        stopFetching: (partitions) => this.#fetcher.revoke(partitions),
        awaitDone: (partitions, timeoutMs, signal) => handOuts.waitDone(partitions, timeoutMs, signal),
        fail: (error) => this.#fail(error),
        report: (error) => {
          if (this.#reported.length < 16) this.#reported.push(error)
          this.#queue.readable.notify()
        },
      }
      const group = createMembership(c, {
        client: this.#client,
        coordinator,
        backoff,
        stats: this.#stats,
        logger: this.#log,
        hooks,
      })
      this.#group = group
      this.#committer = new OffsetCommitter(coordinator, group, backoff, this.#stats, {
        requestTimeout: c.requestTimeout,
        commitTimeout: c.commitTimeout,
        ...(this.#log !== undefined ? { logger: this.#log } : {}),
        beforeFlush: () => this.#markUnmarked(),
      })
      group.start(this.#committer)
      const committer = this.#committer
      this.#queue.onSkip = (cursor) => committer.skipped(cursor, c.commitInterval === 0)
      if (c.commitInterval > 0) {
        this.#commitTimer = setInterval(() => void this.#committer?.flush().catch(() => {}), c.commitInterval)
        this.#commitTimer.unref()
      }
    }

    const meter = meterOf(c.telemetry) // last: reading the metrics needs the fetcher and group
    if (meter !== null) this.#stopOtelMetrics = registerOpenTelemetryMetrics(meter, this)
    void watchTopics({
      client: this.#client,
      direct: c.direct,
      topics: c.topics,
      metadataTimeout: c.metadataTimeout,
      logger: this.#log,
      signal: this.#closed.signal,
      setUnknown: (error) => {
        this.#unknownTopic = error
        if (error !== null) this.#queue.readable.notify()
      },
    })
    const signal = c.signal
    if (signal !== undefined) {
      if (signal.aborted) void this.close()
      else signal.addEventListener('abort', () => void this.close(), { once: true })
    }
  }

  /** The shared client core (metadata, connections), e.g. for tests. */
  get client(): KafkaClient {
    return this.#client
  }

  get groupId(): string | undefined {
    return this.#config.groupId
  }

  /** The group's member id ('' when not in a group, or not joined yet). */
  /** The group protocol in use: 'consumer' (KIP-848) or 'classic' (also after falling back); undefined without a group. */
  get groupProtocol(): 'consumer' | 'classic' | undefined {
    return this.#group?.groupProtocol
  }

  get memberId(): string {
    return this.#group?.memberId ?? ''
  }

  /** The group generation of the current assignment (-1 when not in a group, or not joined yet). */
  get generationId(): number {
    return this.#group?.generationId ?? -1
  }

  /**
   * The group membership a transactional Writer's sendOffsets sends with the offsets (KIP-447,
   * Java's ConsumerGroupMetadata): the group fences a commit from an older generation.
   */
  groupMetadata(): { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null } {
    const c = this.#config
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
    const direct = this.#config.direct
    if (direct === undefined) return -1n
    const cursor = this.#fetcher.cursor(direct.topic, direct.partition)
    if (cursor === undefined) return -1n
    if (cursor.position >= 0n) return cursor.position
    return cursor.resetTo === FirstOffset ? FirstOffset : LastOffset
  }

  /** The partitions read now (direct mode: the one partition; group mode: the assignment). */
  assignment(): TopicPartition[] {
    if (this.#group !== null) return this.#group.assignment()
    return [{ ...this.#config.direct! }]
  }

  // --- reading -----------------------------------------------------------------------------------

  /**
   * The next message, waiting for one as long as it takes (or until `signal` aborts or the Reader
   * closes). Does not commit: pass it to commitMessages once processed.
   */
  async fetchMessage(options: ReadOptions = {}): Promise<FetchedMessage> {
    const started = Date.now()
    this.#metrics.polled(started)
    this.#handOuts?.releaseAll() // asking for more: what was handed out before is done with
    for (;;) {
      const message = this.#takeMessage(started)
      if (message !== undefined) return message
      await this.#waitReadable(options.signal, 'fetchMessage')
    }
  }

  /** The next message if one is waiting, handed out (fetchMessage without the wait). */
  #takeMessage(started: number): FetchedMessage | undefined {
    this.#throwIfUnusable()
    const message = this.#queue.shift()
    if (message === undefined) return undefined
    this.#stats.waitTime.observe(Date.now() - started)
    this.#countOne(message)
    this.#handOuts?.handedOut([message])
    this.#tracing?.received([message], started, false)
    return message
  }

  /**
   * kafka-go's ReadMessage: the next message, marked as read in the group before it is returned
   * (committed at once when commitInterval is 0, else with the next periodic commit). A crash
   * while processing it loses it for the group; `for await` or fetchMessage + commitMessages give
   * at-least-once instead.
   */
  async readMessage(options: ReadOptions = {}): Promise<FetchedMessage> {
    const message = await this.fetchMessage(options)
    if (this.#group !== null) await this.#markRead([message], options.signal)
    return message
  }

  /**
   * Every message of the next fetched chunk of one partition (as many as one fetch response
   * returned), waiting for one like fetchMessage. Does not commit.
   */
  async fetchBatch(options: ReadOptions = {}): Promise<MessageBatch> {
    this.#handOuts?.releaseAll()
    return this.#takeBatch(options)
  }

  /** fetchBatch without ending earlier hand-outs (run() holds several partitions' batches at once). */
  async #takeBatch(options: ReadOptions): Promise<MessageBatch> {
    const started = Date.now()
    this.#metrics.polled(started)
    for (;;) {
      this.#throwIfUnusable()
      const batch = this.#queue.shiftBatch()
      if (batch !== undefined) {
        this.#stats.waitTime.observe(Date.now() - started)
        for (const m of batch.messages) this.#countOne(m)
        this.#handOuts?.handedOut(batch.messages)
        this.#tracing?.received(batch.messages, started, true)
        return batch
      }
      await this.#waitReadable(options.signal, 'fetchBatch')
    }
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
        next: (signal) => this.#takeBatch({ signal }),
        owned: (batch) => {
          const cursor = this.#fetcher.cursor(batch.topic, batch.partition)
          if (cursor === undefined || cursor.removed) return false
          const owner = cursor.owner
          return owner === null || (owner.valid && owner.id === batch.messages[0]?.assignment)
        },
        done: (batch, autoCommit) => this.#processed(batch.messages, autoCommit),
        isEnd: (err, signal) => err instanceof ClosedError || (signal.aborted && err instanceof AbortError),
      },
      options,
    )
  }

  /** run(): a batch's handler finished: mark it for commit (autoCommit), or only end its hand-out. */
  async #processed(messages: FetchedMessage[], autoCommit: boolean): Promise<void> {
    const offsets = this.#commitOffsets(messages)
    this.#handOuts?.committed(offsets)
    const committer = this.#committer
    if (!autoCommit || committer === null) return
    try {
      committer.mark(offsets)
    } catch (err) {
      if (!(err instanceof CommitRejectedError)) throw err
      this.#log.info({ err }, 'a processed batch was not marked for commit')
      return
    }
    if (this.#config.commitInterval === 0) await committer.flush({}).catch(() => {})
  }

  /** Messages as an async iterator; see IterateOptions for how they are committed. */
  messages(options: IterateOptions = {}): AsyncIterableIterator<FetchedMessage> {
    return this.#iterate(
      () => this.fetchMessage(options),
      null,
      options,
      () => {
        const started = Date.now()
        this.#metrics.polled(started)
        this.#handOuts?.releaseAll()
        return this.#takeMessage(started)
      },
    )
  }

  /** Per-partition batches (one fetch response's worth) as an async iterator; committed like messages(). */
  batches(options: IterateOptions = {}): AsyncIterableIterator<MessageBatch> {
    return this.#iterate(
      () => this.fetchBatch(options),
      (b) => b.messages,
      options,
    )
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<FetchedMessage> {
    return this.messages()
  }

  /**
   * `messagesOf` null: the items are single messages (messages()), marked as #iteratedOne says,
   * and `poll` takes one at once when it is waiting, so that such a step awaits nothing.
   */
  #iterate<T>(
    next: () => Promise<T>,
    messagesOf: ((item: T) => FetchedMessage[]) | null,
    options: IterateOptions,
    poll?: () => T | undefined,
  ): AsyncIterableIterator<T> {
    const autoCommit = this.#group !== null && options.autoCommit !== false
    let previous: T | null = null
    let done = false
    const ended = (err: unknown): IteratorResult<T> => {
      // Closing ends the loop quietly; any other error goes to the loop.
      if (!(err instanceof ClosedError)) throw err
      done = true
      return { done: true, value: undefined }
    }
    const slow = async (marking: Promise<void> | null): Promise<IteratorResult<T>> => {
      if (marking !== null) await marking
      try {
        const item = await next()
        previous = item
        return { done: false, value: item }
      } catch (err) {
        return ended(err)
      }
    }
    const iterator: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        if (done) return Promise.resolve({ done: true, value: undefined })
        // The loop asked for more: the previous item was processed.
        const processed = previous
        previous = null
        let marking: Promise<void> | null = null
        try {
          if (processed !== null && autoCommit) {
            marking =
              messagesOf === null
                ? this.#iteratedOne(processed as FetchedMessage, options.signal)
                : this.#iterated(messagesOf(processed), options.signal)
          }
          if (marking === null && poll !== undefined) {
            const item = poll()
            if (item !== undefined) {
              previous = item
              return Promise.resolve({ done: false, value: item })
            }
          }
        } catch (err) {
          try {
            return Promise.resolve(ended(err))
          } catch (error) {
            return Promise.reject(error as Error)
          }
        }
        return slow(marking)
      },
      return: async (): Promise<IteratorResult<T>> => {
        done = true
        previous = null
        // What was processed before the item the loop left with is still owed.
        if (autoCommit && this.#config.commitInterval === 0 && this.#state === 'open')
          await this.#committer?.flush(options).catch(() => {})
        return { done: true, value: undefined }
      },
      [Symbol.asyncIterator]() {
        return iterator
      },
    }
    return iterator
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
  async commitMessages(...args: unknown[]): Promise<void> {
    let messages: readonly Message[]
    let options: CommitOptions = {}
    if (Array.isArray(args[0])) {
      messages = args[0] as readonly Message[]
      options = (args[1] as CommitOptions | undefined) ?? {}
    } else {
      messages = args as Message[]
    }
    if (this.#committer === null)
      throw new ReaderStateError('commitMessages needs a consumer group (groupId); a direct Reader does not commit')
    // Allowed while closing: onRevoke runs then and may commit (as Java's commitSync in onPartitionsRevoked).
    if (this.#state === 'closed') throw new ClosedError('Reader')
    this.#markUnmarked()
    const offsets = withMetadata(this.#commitOffsets(messages), options.metadata)
    if (offsets.length === 0) return
    this.#handOuts?.committed(offsets)
    const allowRewind = options.allowRewind === true
    if (this.#config.commitInterval > 0) this.#committer.mark(offsets, { allowRewind })
    else await this.#committer.commit(offsets, { signal: options.signal, allowRewind })
  }

  /**
   * Group mode: says the application is done with every record handed out so far (processed,
   * or given up on) without reading more, so a rebalance waiting for them goes ahead and the
   * maxPollInterval clock stops (franz-go's AllowRebalance). Reading again does the same.
   */
  release(): void {
    this.#handOuts?.releaseAll()
  }

  /** Commits what is marked now (periodic mode) and waits for it. */
  async flushCommits(options: ReadOptions = {}): Promise<void> {
    await this.#committer?.flush(options)
  }

  /**
   * The loop asked for the next item, so these were processed: mark them. With commitInterval 0
   * the marks are committed when a fetched batch is used up or the loop would wait (and by
   * return() and close()), not once per message: one OffsetCommit per batch (review W3).
   */
  #iterated(messages: FetchedMessage[], signal: AbortSignal | undefined): Promise<void> | null {
    const committer = this.#committer
    if (committer === null) return null
    const offsets = this.#commitOffsets(messages)
    this.#handOuts?.committed(offsets)
    try {
      committer.mark(offsets)
    } catch (err) {
      // Revoked or fenced meanwhile: the partition's owner reads it again; the loop goes on
      // (Java's auto-commit logs such failures the same way).
      if (!(err instanceof CommitRejectedError)) throw err
      this.#log.info({ err }, 'a processed message was not marked for commit')
      return null
    }
    if (this.#config.commitInterval > 0 || !this.#queue.atChunkStart) return null
    // Failures stay marked and go with the next commit; close() commits what is left.
    return committer.flush({ signal }).catch(() => {})
  }

  /**
   * messages() moved past `message`: it was processed. Marking each message on its own would
   * cost a commit entry per message, so the last one processed is held back (#unmarked) and
   * marked when the loop moves to another partition or ownership, at a fetched batch's end with
   * commitInterval 0 (then committed, as #iterated does), and before anything else touches the
   * commits: every flush (periodic, rebalance, close: the committer's beforeFlush), and
   * commitMessages, readMessage and seek, so they see the marks in the order they were made.
   */
  #iteratedOne(message: FetchedMessage, signal: AbortSignal | undefined): Promise<void> | null {
    const committer = this.#committer
    if (committer === null) return null
    const held = this.#unmarked
    if (
      held !== null &&
      (held.partition !== message.partition || held.topic !== message.topic || held.assignment !== message.assignment)
    )
      this.#markUnmarked()
    this.#unmarked = message
    if (this.#config.commitInterval > 0 || !this.#queue.atChunkStart) return null
    this.#markUnmarked()
    // Failures stay marked and go with the next commit; close() commits what is left.
    return committer.flush({ signal }).catch(() => {})
  }

  /** Marks the message messages() held back (see #iteratedOne). */
  #markUnmarked(): void {
    const message = this.#unmarked
    if (message === null) return
    this.#unmarked = null
    const committer = this.#committer
    if (committer === null) return
    const offsets = this.#commitOffsets([message])
    this.#handOuts?.committed(offsets)
    try {
      committer.mark(offsets)
    } catch (err) {
      // Revoked, fenced or sought back meanwhile: as in #iterated, the loop goes on.
      if (!(err instanceof CommitRejectedError)) throw err
      this.#log.info({ err }, 'a processed message was not marked for commit')
    }
  }

  /** What committing these messages records: past what follows them and is never handed out. */
  #commitOffsets(messages: readonly Message[]): CommitOffset[] {
    return pastSkipped(highestPerPartition(messages), (topic, partition) => this.#fetcher.cursor(topic, partition))
  }

  async #markRead(messages: FetchedMessage[], signal: AbortSignal | undefined): Promise<void> {
    this.#markUnmarked()
    const offsets = this.#commitOffsets(messages)
    if (offsets.length === 0 || this.#committer === null) return
    this.#handOuts?.committed(offsets)
    if (this.#config.commitInterval > 0) this.#committer.mark(offsets)
    else await this.#committer.commit(offsets, { signal })
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
    const [topic, partition, offset] =
      typeof a === 'string' ? [a, b as number, c!] : [this.#singleTopic('seek'), a, b as bigint]
    if (typeof offset !== 'bigint' || offset < -2n)
      throw new ReaderStateError(
        `seek: the offset must be a bigint >= 0, FirstOffset or LastOffset, got ${String(offset)}`,
      )
    this.#markUnmarked()
    this.#fetcher.seek(this.#cursorFor(topic, partition, 'seek'), offset)
  }

  /** kafka-go's SetOffset: direct mode only; FirstOffset, LastOffset or an offset. */
  setOffset(offset: bigint): void {
    const direct = this.#config.direct
    if (direct === undefined)
      throw new ReaderStateError(
        'setOffset is for a direct Reader (topic + partition); in a group use seek(topic, partition, offset)',
      )
    this.seek(direct.topic, direct.partition, offset)
  }

  /**
   * kafka-go's SetOffsetAt: moves to the first message at or after `time` (or to the end when
   * there is none), in the one partition of a direct Reader or in every partition assigned now.
   * Resolves once the new positions are known.
   */
  async setOffsetAt(time: Date | number, options: ReadOptions = {}): Promise<void> {
    this.#throwIfClosed()
    const timestamp = startOffsetTimestamp(time instanceof Date ? time : Math.trunc(time))
    if (timestamp < 0n)
      throw new ReaderStateError(
        'setOffsetAt needs a time (a Date or epoch milliseconds), not FirstOffset/LastOffset; use seek',
      )
    const signals = [options.signal, this.#closed.signal]
    const cursors = this.assignment().map((tp) => this.#cursorFor(tp.topic, tp.partition, 'setOffsetAt'))
    this.#markUnmarked()
    for (const cursor of cursors) this.#fetcher.seek(cursor, timestamp, true)
    for (const cursor of cursors) await this.#fetcher.resolved(cursor, signals)
  }

  /** Stops fetching partitions until resume() (Java's pause); what was fetched ahead is dropped. */
  pause(partitions: readonly (TopicPartition | number)[]): void {
    for (const tp of this.#partitionsOf(partitions, 'pause'))
      this.#fetcher.pause(this.#cursorFor(tp.topic, tp.partition, 'pause'))
  }

  resume(partitions: readonly (TopicPartition | number)[]): void {
    for (const tp of this.#partitionsOf(partitions, 'resume')) {
      const cursor = this.#fetcher.cursor(tp.topic, tp.partition)
      if (cursor !== undefined) this.#fetcher.resume(cursor)
    }
  }

  /** The partitions paused now. */
  paused(): TopicPartition[] {
    return [...this.#fetcher.cursors()].filter((c) => c.paused).map((c) => ({ topic: c.topic, partition: c.partition }))
  }

  // --- introspection (the Java consumer's names) ---------------------------------------------------

  /**
   * The group's committed offsets (OffsetFetch, waiting for pending transactional offsets) for
   * `partitions` (default: the assignment), in that order; offset null where none is committed.
   * Any partition may be asked for, assigned or not. Group mode only.
   */
  async committed(
    partitions?: readonly (TopicPartition | number)[],
    options: ReadOptions = {},
  ): Promise<{ topic: string; partition: number; offset: bigint | null }[]> {
    this.#throwIfClosed()
    if (this.#committer === null)
      throw new ReaderStateError('committed needs a consumer group (groupId); a direct Reader has no committed offsets')
    const list = partitions === undefined ? this.assignment() : this.#partitionsOf(partitions, 'committed')
    if (list.length === 0) return []
    const committer = this.#committer
    const found = await this.#linked(options.signal, (signal) => committer.fetchCommitted(list, signal))
    return list.map((tp) => ({ ...tp, offset: found.get(partitionKey(tp.topic, tp.partition)) ?? null }))
  }

  /**
   * The offset of the next message this Reader hands out from an assigned partition (Java's
   * position): waits while it is still being looked up (a reset or a new assignment).
   */
  async position(topic: string, partition: number, options: ReadOptions = {}): Promise<bigint> {
    this.#throwIfClosed()
    const cursor = this.#cursorFor(topic, partition, 'position')
    await this.#fetcher.resolved(cursor, [options.signal, this.#closed.signal])
    return cursor.position
  }

  /** The first offset of each partition (log start offset), in the order asked. Any partition, assigned or not. */
  async beginningOffsets(
    partitions: readonly (TopicPartition | number)[],
    options: ReadOptions = {},
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    return this.#endOffsets(partitions, FirstOffset, 'beginningOffsets', options)
  }

  /**
   * The end offset of each partition: the offset the next message written will get (under
   * read_committed, the last stable offset), in the order asked. Any partition, assigned or not.
   */
  async endOffsets(
    partitions: readonly (TopicPartition | number)[],
    options: ReadOptions = {},
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    return this.#endOffsets(partitions, LastOffset, 'endOffsets', options)
  }

  /**
   * For each partition, the first message with a timestamp at or after `timestamp` (a Date or
   * epoch ms): its offset and timestamp, both null when there is none (Java's offsetsForTimes).
   * Each partition at most once per call.
   */
  async offsetsForTimes(
    queries: readonly { topic: string; partition: number; timestamp: Date | number }[],
    options: ReadOptions = {},
  ): Promise<ListedOffset[]> {
    this.#throwIfClosed()
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
    return this.#linked(options.signal, (signal) => listOffsets(this.#listContext(), asked, signal))
  }

  async #endOffsets(
    partitions: readonly (TopicPartition | number)[],
    timestamp: bigint,
    what: string,
    options: ReadOptions,
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    this.#throwIfClosed()
    const asked = this.#partitionsOf(partitions, what).map((tp) => ({ ...tp, timestamp }))
    const found = await this.#linked(options.signal, (signal) => listOffsets(this.#listContext(), asked, signal))
    return found.map((f) => ({ topic: f.topic, partition: f.partition, offset: f.offset ?? 0n }))
  }

  /**
   * Runs `run` with one signal that fires with the caller's or the Reader's close, listening
   * explicitly (no AbortSignal.any on the long-lived close signal: see wait.ts).
   */
  async #linked<T>(signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signals = [signal, this.#closed.signal]
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
    const c = this.#config
    return {
      client: this.#client,
      isolationLevel: c.isolationLevel,
      requestTimeout: c.requestTimeout,
      policy: this.#backoff,
    }
  }

  /** Per partition read: position, high watermark and lag (from the last fetch response). */
  lag(): PartitionLag[] {
    return this.#fetcher.lag()
  }

  /** The Java consumer's metrics (README "Monitoring"): windowed rates, totals, lag per partition; never reset. */
  metrics(): MetricsSnapshot {
    return this.#metrics.registry.snapshot()
  }

  /** Statistics since the last call: kafka-go's delta view, reset by every call (metrics() is not). */
  stats(): ReaderStats {
    const c = this.#config
    let lag = 0n
    let lagMax = 0n
    for (const l of this.#fetcher.lag()) {
      if (l.lag < 0n) continue
      lag += l.lag
      if (l.lag > lagMax) lagMax = l.lag
    }
    return this.#stats.snapshot({
      offset: c.direct !== undefined ? this.offset : -1n,
      lag,
      lagMax,
      queueLength: this.#queue.length,
      queueBytes: this.#queue.bytes,
      minBytes: c.minBytes,
      maxBytes: c.maxBytes,
      maxWait: c.maxWait,
      queueCapacity: c.queueCapacityBytes,
      clientId: this.#client.clientId,
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
    this.#closing ??= this.#close().finally(() => this.#stopOtelMetrics?.())
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#state = 'closing'
    this.#closed.abort()
    if (this.#commitTimer !== null) clearInterval(this.#commitTimer)
    this.#handOuts?.close()
    const deadline = deadlineSignal(this.#config.closeTimeout)
    const fetching = this.#fetcher.stop()
    try {
      if (this.#group !== null) await raceDeadline(this.#group.close(deadline), deadline)
    } catch {
      // Best effort within closeTimeout: what was not committed is read again by the next owner.
    }
    this.#committer?.stop()
    await fetching
    this.#queue.clear()
    // Commits and LeaveGroup are done; what may still be in flight is an abandoned Fetch long
    // poll, which is not worth waiting for.
    await this.#client.close(Math.min(200, this.#config.closeTimeout))
    this.#state = 'closed'
  }

  // --- helpers -------------------------------------------------------------------------------------

  #fail(error: Error): void {
    if (this.#fatal !== null) return
    this.#fatal = error
    this.#queue.readable.notify()
  }

  /** warn/error lines carrying an Error become 'error' events. */
  #dispatchError(fields: LogFields | undefined): void {
    const err = fields?.err
    if (err instanceof Error) this.dispatchEvent(new ReaderErrorEvent(err))
  }

  #throwIfClosed(): void {
    if (this.#state !== 'open') throw new ClosedError('Reader')
  }

  #throwIfUnusable(): void {
    this.#throwIfClosed()
    // Reading again after a maxPollInterval leave: rejoin (the error is among #reported).
    this.#group?.resume()
    if (this.#fatal !== null) throw this.#fatal
    if (this.#unknownTopic !== null) throw this.#unknownTopic
    const reported = this.#reported.shift()
    if (reported !== undefined) throw reported
  }

  async #waitReadable(userSignal: AbortSignal | undefined, what: string): Promise<void> {
    try {
      await this.#queue.readable.wait([userSignal, this.#closed.signal], undefined, what)
    } catch (err) {
      if (err instanceof AbortError && userSignal?.aborted !== true) throw new ClosedError('Reader')
      if (userSignal?.aborted === true) throw abortErrorFor(userSignal, what)
      throw err
    }
  }

  #countOne(m: FetchedMessage): void {
    let bytes = (m.key?.length ?? 0) + (m.value?.length ?? 0)
    for (const h of m.headers) bytes += h.key.length + (h.value?.length ?? 0)
    this.#stats.messages++
    this.#stats.bytes += bytes
    this.#metrics.consumed(1, bytes)
  }

  #singleTopic(what: string): string {
    const c = this.#config
    if (c.direct !== undefined) return c.direct.topic
    if (c.topics.length === 1) return c.topics[0]!
    throw new ReaderStateError(`${what}: the Reader reads several topics; name the topic`)
  }

  #partitionsOf(partitions: readonly (TopicPartition | number)[], what: string): TopicPartition[] {
    return partitions.map((p) => (typeof p === 'number' ? { topic: this.#singleTopic(what), partition: p } : p))
  }

  #cursorFor(topic: string, partition: number, what: string) {
    const cursor = this.#fetcher.cursor(topic, partition)
    if (cursor === undefined)
      throw new ReaderStateError(`${what}: partition ${topic}-${partition} is not assigned to this Reader`)
    return cursor
  }
}

function raceDeadline(promise: Promise<void>, deadline: AbortSignal): Promise<void> {
  if (deadline.aborted) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve()
    deadline.addEventListener('abort', onAbort, { once: true })
    promise.then(
      () => {
        deadline.removeEventListener('abort', onAbort)
        resolve()
      },
      (err: unknown) => {
        deadline.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
