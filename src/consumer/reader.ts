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

import { KafkaClient } from '../cluster/client.js'
import type { RetryPolicy } from '../cluster/retry.js'
import { KafkaTsError } from '../errors.js'
import type { Message } from '../message.js'
import { AbortError, ClosedError, abortErrorFor } from '../net/errors.js'
import { OffsetCommitter, type CommitOffset } from './commits.js'
import { resolveReaderConfig, type ReaderConfig, type ResolvedReaderConfig, type TopicPartition } from './config.js'
import { Coordinator } from './coordinator.js'
import { CommitRejectedError, PollIntervalExceededError, ReaderStateError } from './errors.js'
import type { FetchedMessage } from './fetch-result.js'
import { Fetcher, type PartitionLag } from './fetcher.js'
import { GroupMembership } from './group.js'
import { HandOuts } from './handout.js'
import { FirstOffset, LastOffset, startOffsetTimestamp } from './offsets.js'
import { MessageQueue, type MessageBatch } from './queue.js'
import { ReaderStatsCollector, type ReaderStats } from './stats.js'
import { deadlineSignal } from './wait.js'

export interface ReadOptions {
  /** Stops waiting for a message (rejects with AbortError); nothing is lost. */
  signal?: AbortSignal
}

export interface IterateOptions extends ReadOptions {
  /**
   * Group mode: mark each message (batch) for commit once the loop asks for the next one
   * (default true). Leaving the loop does not mark the last one: it is read again after a
   * restart or by the partition's next owner (at-least-once). With commitInterval 0 the marks
   * are committed synchronously; otherwise on the interval, on rebalance and on close.
   */
  autoCommit?: boolean
}

type ReaderState = 'open' | 'closing' | 'closed'

export class Reader implements AsyncIterable<FetchedMessage> {
  readonly #config: ResolvedReaderConfig
  readonly #client: KafkaClient
  readonly #queue: MessageQueue
  readonly #stats = new ReaderStatsCollector()
  readonly #fetcher: Fetcher
  readonly #group: GroupMembership | null = null
  readonly #committer: OffsetCommitter | null = null
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

  constructor(config: ReaderConfig) {
    const c = (this.#config = resolveReaderConfig(config))
    this.#client = new KafkaClient(c.client)
    this.#client.pool.onDial = (ms) => this.#stats.dialTime.observe(ms)
    const backoff: RetryPolicy = {
      maxAttempts: c.maxAttempts,
      backoffMs: c.readBackoffMin,
      backoffMaxMs: c.readBackoffMax,
      jitter: 0.2,
    }
    this.#queue = new MessageQueue(c.queueCapacityBytes)
    this.#fetcher = new Fetcher({
      client: this.#client,
      queue: this.#queue,
      stats: this.#stats,
      isolationLevel: c.isolationLevel,
      minBytes: c.minBytes,
      maxBytes: c.maxBytes,
      partitionMaxBytes: c.partitionMaxBytes,
      maxWait: c.maxWait,
      requestTimeout: c.requestTimeout,
      resetTo: c.startOffset,
      backoff,
    })

    if (c.direct !== undefined) {
      this.#client.metadata.addTopics([c.direct.topic])
      this.#fetcher.assign([{ ...c.direct, offset: null, resetTo: c.startOffset }])
    } else {
      this.#client.metadata.addTopics(c.topics)
      const coordinator = new Coordinator(this.#client, c.groupId!, backoff)
      const handOuts = new HandOuts(c.maxPollInterval, () => {
        this.#group?.leaveForPollTimeout(new PollIntervalExceededError(c.maxPollInterval))
      })
      this.#handOuts = handOuts
      const group = new GroupMembership(
        {
          client: this.#client,
          coordinator,
          groupId: c.groupId!,
          groupInstanceId: c.groupInstanceId,
          topics: c.topics,
          balancers: c.groupBalancers,
          protocol: c.rebalanceProtocol,
          sessionTimeout: c.sessionTimeout,
          rebalanceTimeout: c.rebalanceTimeout,
          heartbeatInterval: c.heartbeatInterval,
          partitionWatchInterval: c.partitionWatchInterval,
          requestTimeout: c.requestTimeout,
          startOffset: c.startOffset,
          backoff,
          stats: this.#stats,
          onAssign: c.onAssign,
          onRevoke: c.onRevoke,
          onLost: c.onLost,
        },
        {
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
        },
      )
      this.#group = group
      this.#committer = new OffsetCommitter(coordinator, group, backoff, this.#stats, c.requestTimeout)
      group.start(this.#committer)
      if (c.commitInterval > 0) {
        this.#commitTimer = setInterval(() => void this.#committer?.flush().catch(() => {}), c.commitInterval)
        this.#commitTimer.unref()
      }
    }

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
  get memberId(): string {
    return this.#group?.memberId ?? ''
  }

  /** The group generation of the current assignment (-1 when not in a group, or not joined yet). */
  get generationId(): number {
    return this.#group?.generationId ?? -1
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
    this.#handOuts?.releaseAll() // asking for more: what was handed out before is done with
    for (;;) {
      this.#throwIfUnusable()
      const message = this.#queue.shift()
      if (message !== undefined) {
        this.#stats.waitTime.observe(Date.now() - started)
        this.#countOne(message)
        this.#handOuts?.handedOut([message])
        return message
      }
      await this.#waitReadable(options.signal, 'fetchMessage')
    }
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
    const started = Date.now()
    this.#handOuts?.releaseAll()
    for (;;) {
      this.#throwIfUnusable()
      const batch = this.#queue.shiftBatch()
      if (batch !== undefined) {
        this.#stats.waitTime.observe(Date.now() - started)
        for (const m of batch.messages) this.#countOne(m)
        this.#handOuts?.handedOut(batch.messages)
        return batch
      }
      await this.#waitReadable(options.signal, 'fetchBatch')
    }
  }

  /** Messages as an async iterator; see IterateOptions for how they are committed. */
  messages(options: IterateOptions = {}): AsyncIterableIterator<FetchedMessage> {
    return this.#iterate(
      () => this.fetchMessage(options),
      (m) => [m],
      options,
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

  #iterate<T>(
    next: () => Promise<T>,
    messagesOf: (item: T) => FetchedMessage[],
    options: IterateOptions,
  ): AsyncIterableIterator<T> {
    const autoCommit = this.#group !== null && options.autoCommit !== false
    let previous: T | null = null
    let done = false
    const iterator: AsyncIterableIterator<T> = {
      next: async (): Promise<IteratorResult<T>> => {
        if (done) return { done: true, value: undefined }
        // The loop asked for more: the previous item was processed.
        if (previous !== null && autoCommit) {
          try {
            await this.#markRead(messagesOf(previous), options.signal)
          } catch (err) {
            // Revoked or fenced meanwhile: the partition's owner reads it again; the loop goes on
            // (Java's auto-commit logs such failures the same way).
            if (!(err instanceof CommitRejectedError)) throw err
          }
        }
        previous = null
        try {
          const item = await next()
          previous = item
          return { done: false, value: item }
        } catch (err) {
          // Closing ends the loop quietly; any other error goes to the loop.
          if (err instanceof ClosedError) {
            done = true
            return { done: true, value: undefined }
          }
          throw err
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        done = true
        previous = null
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
   * An offset at or below what this member already committed for a partition is not sent, so a
   * commit never moves the group backwards. `commitMessages([m1, m2], { signal })` stops waiting
   * when the signal fires (the commit itself still goes out).
   */
  commitMessages(...messages: Message[]): Promise<void>
  commitMessages(messages: readonly Message[], options?: ReadOptions): Promise<void>
  async commitMessages(...args: unknown[]): Promise<void> {
    let messages: readonly Message[]
    let options: ReadOptions = {}
    if (Array.isArray(args[0])) {
      messages = args[0] as readonly Message[]
      options = (args[1] as ReadOptions | undefined) ?? {}
    } else {
      messages = args as Message[]
    }
    if (this.#committer === null)
      throw new ReaderStateError('commitMessages needs a consumer group (groupId); a direct Reader does not commit')
    // Allowed while closing: onRevoke runs then and may commit (as Java's commitSync in onPartitionsRevoked).
    if (this.#state === 'closed') throw new ClosedError('Reader')
    const offsets = highestPerPartition(messages)
    if (offsets.length === 0) return
    this.#handOuts?.committed(offsets)
    if (this.#config.commitInterval > 0) this.#committer.mark(offsets)
    else await this.#committer.commit(offsets, { signal: options.signal })
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

  async #markRead(messages: FetchedMessage[], signal: AbortSignal | undefined): Promise<void> {
    const offsets = highestPerPartition(messages)
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

  /** Per partition read: position, high watermark and lag (from the last fetch response). */
  lag(): PartitionLag[] {
    return this.#fetcher.lag()
  }

  /** Statistics since the last call (kafka-go's Stats resets its counters the same way). */
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
    this.#closing ??= this.#close()
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

  #throwIfClosed(): void {
    if (this.#state !== 'open') throw new ClosedError('Reader')
  }

  #throwIfUnusable(): void {
    this.#throwIfClosed()
    // Reading again after a maxPollInterval leave: rejoin (the error is among #reported).
    this.#group?.resume()
    if (this.#fatal !== null) throw this.#fatal
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

/**
 * For each partition, the highest offset + 1 among the messages (what a commit records), per
 * ownership the messages were fetched under: the committer refuses those of a replaced one.
 */
function highestPerPartition(messages: readonly Message[]): CommitOffset[] {
  const out = new Map<unknown, Map<string, CommitOffset>>()
  for (const [i, m] of messages.entries()) {
    if (typeof m?.topic !== 'string' || typeof m.partition !== 'number' || typeof m.offset !== 'bigint') {
      throw new KafkaTsError(
        'KAFKATS_INVALID_ARGUMENT',
        `commitMessages: message ${i} has no topic, partition and offset (pass messages this Reader returned)`,
      )
    }
    const { assignment, leaderEpoch } = m as Partial<FetchedMessage>
    let byPartition = out.get(assignment)
    if (byPartition === undefined) out.set(assignment, (byPartition = new Map()))
    const key = `${m.topic}\u0000${m.partition}`
    const next = m.offset + 1n
    const current = byPartition.get(key)
    if (current === undefined || next > current.offset)
      byPartition.set(key, { topic: m.topic, partition: m.partition, offset: next, assignment, leaderEpoch })
  }
  return [...out.values()].flatMap((byPartition) => [...byPartition.values()])
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
