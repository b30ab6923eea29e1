// The Writer (kafka-go's Writer): writeMessages → balancer → per-partition batches → one Produce
// request per broker per flush, pipelined on the broker's produce connection.
//
// The Writer is the single retry owner of every batch: connections and the client below never
// retry on their own. Each partition's Sequencer (sequencer.ts) decides what may be sent, in
// which order and under which sequence numbers; the Writer does the I/O (through the per-broker
// pipelines of pipeline.ts); writer-outcomes.ts turns the answers into outcomes and reports how
// each batch ended. flush.ts keeps flush()'s bookkeeping.

import { KafkaTsError, KafkaError } from '../errors.js'
import { createDefaultLogger, safeLogger, type Logger } from '../logger.js'
import type { Message } from '../message.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { RECORD_BATCH_OVERHEAD } from '../protocol/record-batch.js'
import { KafkaClient, type ClientSharing } from '../cluster/client.js'
import type { RetryPolicy } from '../cluster/retry.js'
import { ClosedError, abortErrorFor } from '../net/errors.js'
import { ByteBudget, PartitionState, ProducerBatch, type BatchLimits, type PendingRecord } from './accumulator.js'
import { resolveWriterConfig, type ResolvedWriterConfig, type WriterConfig } from './config.js'
import { DeliveryTimeoutError, UnreportedFailures, toError } from './errors.js'
import { FlushGenerations } from './flush.js'
import { prepareMessage } from './prepare.js'
import { ProducerIdManager } from './idempotence.js'
import { ProducePipelines } from './pipeline.js'
import { initProducerId } from './requests.js'
import type { SequencerOptions } from './sequencer.js'
import type { MetricsSnapshot } from '../metrics/registry.js'
import { meterOf, tracerOf } from '../telemetry/otel-types.js'
import { registerOpenTelemetryMetrics } from '../telemetry/otel-metrics.js'
import { ProducerTracing } from '../telemetry/producer-tracing.js'
import { ProducerMetrics } from './metrics.js'
import { StatsCollector, type WriterStats } from './stats.js'
import { TransactionAbortableError, TransactionStateError } from './transaction-errors.js'
import { TransactionManager, type GroupReader } from './transactions.js'
import { WriterOutcomes } from './writer-outcomes.js'
import { WriteTracker, noop, raceAbortOwned, type WriteResult } from './tracker.js'

/** What `transaction(fn)` hands `fn`: the Writer's writeMessages and sendOffsets. */
export type Transaction = Pick<Writer, 'writeMessages' | 'sendOffsets'>

export interface WriteOptions {
  /** Stops waiting (for metadata, buffer space or acknowledgements); messages already handed over may still be written. */
  signal?: AbortSignal
}

/** Batches per partition in one drain pass: each goes into its own Produce request (one batch per partition per request). */
const MAX_ROUNDS = 5

type WriterState = 'open' | 'closing' | 'closed'

/** One writeMessages call's view of a topic: its partition ids and states. */
interface TopicRoute {
  topic: string
  ids: readonly number[]
  /** Where keyless messages may go (KIP-794), computed when the first one comes. */
  keyless: readonly number[] | null
  states: PartitionState[]
}

export class Writer {
  readonly #config: ResolvedWriterConfig
  readonly #log: Logger
  readonly #client: KafkaClient
  readonly #policy: RetryPolicy
  readonly #limits: BatchLimits
  readonly #budget: ByteBudget
  readonly #stats = new StatsCollector()
  readonly #metrics: ProducerMetrics
  readonly #tracing: ProducerTracing | null
  readonly #stopOtelMetrics: (() => void) | undefined
  readonly #idempotence: ProducerIdManager | null
  /** Set when the Writer is transactional (transactionalId). */
  readonly #txn: TransactionManager | null = null
  readonly #sequencing: SequencerOptions
  readonly #partitions = new Map<string, PartitionState>()
  /** The same states per topic, indexed by partition id: found per message without building a key. */
  readonly #byTopic = new Map<string, PartitionState[]>()
  /** Partitions with anything pending, to retry or in flight. */
  readonly #active = new Set<PartitionState>()
  readonly #pipelines: ProducePipelines
  /** How batches end: answers, failed requests, completions and failures reported. */
  readonly #outcomes: WriterOutcomes
  #state: WriterState = 'open'
  #closing: Promise<void> | null = null
  #flushAll = false
  #drainScheduled = false
  #wakeTimer: NodeJS.Timeout | null = null
  #wakeAt = Infinity
  #metadataRefreshing = false
  #lastMetadataRefresh = 0
  #idleWaiters: (() => void)[] = []
  readonly #flushes = new FlushGenerations()
  /** Async failures without a completion callback, for the next flush() or close() to reject with. */
  readonly #unreported = new UnreportedFailures()

  /** `sharing` is internal: `Kafka.writer()` passes it so the Writer uses the instance's metadata. */
  constructor(config: WriterConfig, sharing?: ClientSharing) {
    this.#config = resolveWriterConfig(config)
    this.#log = safeLogger(this.#config.logger ?? createDefaultLogger()).child({ client: 'writer' })
    this.#client = new KafkaClient(this.#config.client, sharing)
    this.#client.pool.onDial = (ms) => this.#stats.dialTime.observe(ms)
    const c = this.#config
    this.#metrics = new ProducerMetrics(this.#client.clientId, this.#client.pool, c.compression)
    const tracer = tracerOf(c.telemetry)
    this.#tracing = tracer === null ? null : new ProducerTracing(tracer, this.#client.clientId)
    const meter = meterOf(c.telemetry)
    if (meter !== null) this.#stopOtelMetrics = registerOpenTelemetryMetrics(meter, this)
    this.#policy = {
      maxAttempts: c.maxAttempts,
      backoffMs: c.writeBackoffMin,
      backoffMaxMs: c.writeBackoffMax,
      jitter: 0.2,
    }
    this.#limits = { batchSize: c.batchSize, batchBytes: c.batchBytes, lingerMs: c.batchTimeout }
    this.#budget = new ByteBudget(c.bufferMaxBytes)
    this.#idempotence = c.idempotent ? new ProducerIdManager(() => initProducerId(this.#client, this.#policy)) : null
    this.#sequencing = {
      idempotent: c.idempotent,
      maxAttempts: c.maxAttempts,
      deliveryTimeout: c.deliveryTimeout,
      maxInFlight: c.maxInFlightRequests,
      transactional: c.transactionalId !== null,
    }
    if (c.transactionalId !== null) this.#txn = this.#transactionManager(c.transactionalId)
    this.#pipelines = new ProducePipelines({
      client: this.#client,
      config: c,
      txn: this.#txn,
      stats: this.#stats,
      metrics: this.#metrics,
      log: this.#log,
      handlers: {
        onResponse: (broker, batches, response, sentAt) => this.#outcomes.onResponse(broker, batches, response, sentAt),
        onRequestError: (broker, batches, err) => this.#outcomes.onRequestError(broker, batches, err),
      },
    })
    this.#outcomes = new WriterOutcomes({
      client: this.#client,
      config: c,
      policy: this.#policy,
      log: this.#log,
      budget: this.#budget,
      stats: this.#stats,
      metrics: this.#metrics,
      pipelines: this.#pipelines,
      txn: this.#txn,
      flushes: this.#flushes,
      unreported: this.#unreported,
      byTopic: this.#byTopic,
      active: this.#active,
      closed: () => this.#state === 'closed',
      scheduleDrain: () => this.#scheduleDrain(),
      refreshMetadataSoon: (now) => this.#refreshMetadataSoon(now),
      checkIdle: () => this.#checkIdle(),
    })
    if (c.topic !== undefined) this.#client.metadata.addTopics([c.topic])
    const signal = c.signal
    if (signal !== undefined) {
      if (signal.aborted) this.#closeOnAbort()
      else signal.addEventListener('abort', () => this.#closeOnAbort(), { once: true })
    }
  }

  get topic(): string | undefined {
    return this.#config.topic
  }

  /** The shared client core (metadata, connections), e.g. for tests. */
  get client(): KafkaClient {
    return this.#client
  }

  /**
   * Writes messages. Synchronous mode (the default) resolves once every message is acknowledged,
   * with each message's topic, partition and offset (in the order given), and sends them at once
   * rather than waiting for the linger; a failure rejects with the error (one message) or
   * WriteErrors (several). With `async: true` it resolves with an empty array once the messages
   * are buffered and reports each batch to `completion`. Either way it waits while the buffer is
   * full (backpressure).
   */
  writeMessages(...messages: Message[]): Promise<WriteResult[]>
  writeMessages(messages: readonly Message[], options?: WriteOptions): Promise<WriteResult[]>
  writeMessages(...args: unknown[]): Promise<WriteResult[]> {
    let messages: readonly Message[]
    let options: WriteOptions = {}
    if (Array.isArray(args[0])) {
      messages = args[0] as readonly Message[]
      options = (args[1] as WriteOptions | undefined) ?? {}
    } else {
      messages = args as Message[]
    }
    return this.#write(messages, options.signal)
  }

  /**
   * Sends what is buffered now and resolves once each of those messages is acknowledged or
   * failed (Java's flush()). Messages written after the call do not hold it up. An async Writer
   * without `completion` rejects with AsyncWriteErrors when messages failed since the last
   * flush() or close() that reported failures.
   */
  async flush(): Promise<void> {
    for (const state of this.#active) state.flushRequested = true
    this.#scheduleDrain()
    const earlier = this.#flushes.next()
    if (earlier !== null) await earlier
    const failures = this.#unreported.take()
    if (failures !== null) throw failures
  }

  /** Statistics since the last call: kafka-go's delta view, reset by every call (metrics() is not). */
  stats(): WriterStats {
    const c = this.#config
    return this.#stats.snapshot(
      {
        maxAttempts: c.maxAttempts,
        writeBackoffMin: c.writeBackoffMin,
        writeBackoffMax: c.writeBackoffMax,
        maxBatchSize: c.batchSize,
        batchTimeout: c.batchTimeout,
        readTimeout: c.requestTimeout,
        writeTimeout: c.requestTimeout,
        requiredAcks: c.acksValue,
        async: c.async,
        topic: c.topic ?? '',
        clientId: this.#client.clientId,
      },
      this.#budget.used,
    )
  }

  /** The Java producer's metrics (README "Monitoring"): windowed rates and totals; reading never resets them. */
  metrics(): MetricsSnapshot {
    return this.#metrics.registry.snapshot()
  }

  /**
   * Flushes what is buffered, waits for it (at most `closeTimeout`), fails whatever is left, and
   * closes the connections. Calls after the first return the same promise. An async Writer
   * without `completion` rejects with AsyncWriteErrors for failures no flush() reported.
   */
  close(): Promise<void> {
    if (this.#closing === null) this.#closing = this.#close().finally(() => this.#stopOtelMetrics?.())
    return this.#closing
  }

  // --- transactions (transactions.ts holds the state machine) -------------------------------------

  /**
   * Runs `fn` in a transaction: commits when it resolves, aborts when it throws and rethrows.
   * The first use fences older Writers with the same transactionalId.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const tx: Transaction = {
      writeMessages: this.writeMessages.bind(this) as Transaction['writeMessages'],
      sendOffsets: this.sendOffsets.bind(this),
    }
    return this.#transactional('transaction').run(fn, tx)
  }

  /** 2 when transactions use KIP-890's version 2, 1 for the classic protocol, 0 before the first (or not transactional). */
  get transactionVersion(): 0 | 1 | 2 {
    return this.#txn?.transactionVersion ?? 0
  }

  /** Opens a transaction (initializing the transactional id on first use). */
  async beginTransaction(): Promise<void> {
    return this.#transactional('beginTransaction').begin()
  }

  /** Flushes, then commits the open transaction. */
  async commitTransaction(): Promise<void> {
    return this.#transactional('commitTransaction').commitTransaction()
  }

  /** Drops records not yet sent, waits for those in flight, then aborts the open transaction. */
  async abortTransaction(): Promise<void> {
    return this.#transactional('abortTransaction').abortTransaction()
  }

  /**
   * Commits the offsets after `messages` (read by `reader`, a group member) with the open
   * transaction (KIP-447); `options.metadata` gives each partition's commit metadata (none by default).
   */
  async sendOffsets(
    reader: GroupReader,
    messages: readonly Message[],
    options: { metadata?: (topic: string, partition: number) => string | undefined } = {},
  ): Promise<void> {
    return this.#transactional('sendOffsets').sendReaderOffsets(reader, messages, options.metadata)
  }

  #transactional(what: string): TransactionManager {
    if (this.#txn === null) throw new TransactionStateError(`${what} needs a transactional Writer (transactionalId)`)
    if (this.#state !== 'open') throw new ClosedError('Writer')
    return this.#txn
  }

  #transactionManager(transactionalId: string): TransactionManager {
    return new TransactionManager({
      client: this.#client,
      transactionalId,
      timeoutMs: this.#config.transactionTimeout,
      backoff: this.#policy,
      onPartitionsAdded: () => this.#scheduleDrain(),
      onPartitionsFailed: (partitions, error) => {
        for (const p of partitions) {
          const state = this.#partitions.get(`${p.topic}\u0000${p.partition}`)
          if (state !== undefined) this.#outcomes.failWaiting(state, error)
        }
        this.#scheduleDrain()
      },
      flush: () => this.flush(),
      dropPending: (error) => {
        for (const state of this.#partitions.values()) this.#outcomes.failPending(state, error)
      },
      adopt: (identity) => {
        this.#idempotence!.replace(identity)
        for (const state of this.#partitions.values()) state.seq.adopt(identity)
      },
    })
  }

  // --- writing ------------------------------------------------------------------------------------

  async #write(messages: readonly Message[], signal: AbortSignal | undefined): Promise<WriteResult[]> {
    if (this.#state !== 'open') throw new ClosedError('Writer')
    if (signal?.aborted) throw abortErrorFor(signal, 'writeMessages')
    this.#txn?.checkWritable('writeMessages')
    if (messages.length === 0) return []
    // One clock read per call: the messages' default timestamp and when they were appended.
    let now = Date.now()
    const prepared = messages.map((m, i) =>
      prepareMessage(m, i, messages.length, this.#config.topic, this.#config.batchBytes, now),
    )
    const topics = prepared.length === 1 ? [prepared[0]!.topic] : [...new Set(prepared.map((p) => p.topic))]
    // Known topics (the usual case) need no wait: no promise or microtask hop per call.
    if (!this.#client.topicsReady(topics)) {
      await this.#client.waitForTopics(topics, signal, this.#policy)
      now = Date.now()
    }

    const sync = !this.#config.async
    const tracker = sync ? new WriteTracker(messages.length) : null
    const touched = new Set<PartitionState>()
    const spans = this.#tracing?.start(prepared) ?? null
    // The topic's partitions are looked up once per call (and again after waiting for buffer
    // space, when metadata may have changed), not once per message.
    let route: TopicRoute | null = null
    let last: PartitionState | null = null
    let i = 0
    try {
      for (; i < prepared.length; i++) {
        const p = prepared[i]!
        if (!this.#budget.tryAcquire(p.size)) {
          const started = Date.now()
          await this.#budget.acquire(p.size, signal)
          now = Date.now()
          this.#stats.waitTime.observe(now - started)
          route = null
          if (this.#state !== 'open') {
            this.#budget.release(p.size)
            throw new ClosedError('Writer')
          }
        }
        let state: PartitionState
        try {
          if (route === null || route.topic !== p.topic) route = this.#route(p.topic)
          state = this.#partitionFor(route, messages[i]!)
        } catch (err) {
          this.#budget.release(p.size)
          throw err
        }
        const record: PendingRecord = {
          record: p.record,
          size: p.size,
          payloadBytes: p.payloadBytes,
          message: messages[i]!,
          flushEpoch: this.#flushes.epoch,
          settle: tracker === null ? noop : tracker.settler(i, state.topic, state.partition),
        }
        if (spans !== null) record.settle = this.#tracing!.settler(spans[i]!, state.partition, record.settle)
        this.#flushes.added()
        state.append(record, now)
        if (state !== last) {
          this.#active.add(state)
          touched.add(state)
          last = state
        }
        // Cut full batches as they fill rather than after the whole call.
        if (state.pendingCount >= this.#config.batchSize || state.pendingBytes >= this.#config.batchBytes)
          this.#scheduleDrain()
      }
    } catch (err) {
      // Messages already handed over go on; their outcome no longer has a listener.
      tracker?.abandon()
      if (spans !== null) this.#tracing!.notSent(spans.slice(i), err)
      if (sync) for (const state of touched) state.flushRequested = true
      this.#scheduleDrain()
      throw err
    }
    if (tracker === null) {
      this.#scheduleDrain()
      return []
    }
    for (const state of touched) state.flushRequested = true
    this.#scheduleDrain()
    return signal === undefined ? tracker.promise : raceAbortOwned(tracker, signal)
  }

  /** What routing a message of `topic` needs, read from the metadata once per call. */
  #route(topic: string): TopicRoute {
    const info = this.#client.metadata.topic(topic)
    if (info === undefined || info.partitionIds.length === 0) {
      throw KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic, apiName: 'Metadata' })
    }
    let states = this.#byTopic.get(topic)
    if (states === undefined) this.#byTopic.set(topic, (states = []))
    return { topic, ids: info.partitionIds, keyless: null, states }
  }

  /** The partition state a message goes to, chosen by the balancer among the topic's partitions. */
  #partitionFor(route: TopicRoute, message: Message): PartitionState {
    const ids = route.ids
    // KIP-794 (Java's availablePartitionsForTopic): a keyless record may go anywhere, so it goes
    // only where a leader can take it, rather than wait out deliveryTimeout on an offline
    // partition. A key's partition never depends on availability.
    let choices = ids
    if (message.key === null || message.key === undefined) {
      if (route.keyless === null) {
        const available = this.#client.metadata.availablePartitionIds(route.topic) ?? ids
        route.keyless = available.length > 0 ? available : ids
      }
      choices = route.keyless
    }
    const partition = this.#config.balancer.balance(message, choices)
    const known = route.states[partition]
    if (known !== undefined) return known
    // ids is normally 0..n-1, so the first test settles it; includes() covers gaps in the ids.
    if (ids[partition] !== partition && !ids.includes(partition)) {
      throw new KafkaTsError(
        'KAFKATS_BAD_PARTITION',
        `the balancer chose partition ${partition}, which topic '${route.topic}' does not have (partitions: ${ids.join(', ')})`,
      )
    }
    const state = new PartitionState(route.topic, partition, this.#sequencing)
    this.#partitions.set(state.key, state)
    route.states[partition] = state
    return state
  }

  // --- draining: cutting batches and sending them ---------------------------------------------------

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#state === 'closed') return
    this.#drainScheduled = true
    queueMicrotask(() => {
      this.#drainScheduled = false
      this.#drain()
    })
  }

  #drain(): void {
    if (this.#state === 'closed') return
    const now = Date.now()
    let wakeAt = Infinity
    const idem = this.#idempotence
    if (idem !== null && idem.identity === null) {
      // The first producer id: nothing idempotent can be numbered before it.
      if (this.#active.size > 0 && !idem.busy) {
        idem.ensure().then(
          () => this.#scheduleDrain(),
          (err: unknown) => this.#outcomes.failAllWaiting(toError(err)),
        )
      }
      return
    }

    let needMetadata = false
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // Made on the first sendable batch: the last round of every drain finds none.
      let byBroker: Map<number, ProducerBatch[]> | null = null
      for (const state of this.#active) {
        if (state.idle) {
          this.#active.delete(state)
          continue
        }
        const next = this.#takeSendable(state, now)
        if (next === 'no-leader') needMetadata = true
        else if (typeof next === 'number') wakeAt = Math.min(wakeAt, next)
        else if (next !== null) {
          byBroker ??= new Map()
          const list = byBroker.get(next.broker)
          if (list === undefined) byBroker.set(next.broker, [next.batch])
          else list.push(next.batch)
        }
      }
      if (byBroker === null) break
      for (const [broker, batches] of byBroker) this.#pipelines.send(broker, batches)
    }
    if (needMetadata) wakeAt = Math.min(wakeAt, this.#refreshMetadataSoon(now))
    this.#armWake(wakeAt)
    this.#checkIdle()
  }

  /**
   * The next batch of a partition to send now, with its leader; or when to look again (a number),
   * 'no-leader' when metadata must be refreshed, or null when it must wait for responses.
   */
  #takeSendable(
    state: PartitionState,
    now: number,
  ): { batch: ProducerBatch; broker: number } | number | 'no-leader' | null {
    this.#expireOverdue(state, now)
    if (state.idle) return null
    const seq = state.seq
    const info = this.#client.metadata.partition(state.topic, state.partition)
    const leader = info?.leader ?? -1
    if (leader < 0 || this.#client.metadata.broker(leader) === undefined) {
      return state.pendingCount > 0 || seq.retries.length > 0 ? 'no-leader' : null
    }
    if (!seq.canSend(leader)) return null
    // Never more requests for a broker than its connection puts on the wire: one waiting inside
    // the connection could time out there while a later one of the same partition goes ahead.
    if (this.#pipelines.inFlight(leader) >= this.#config.maxInFlightRequests) return null
    const idem = this.#idempotence
    if (idem !== null && seq.identity === null) seq.adopt(idem.identity!)
    const txn = this.#txn
    // An abortable or fenced transaction sends nothing new (Java's abortUndrainedBatches).
    const blocking = txn?.blockingError ?? null
    if (blocking !== null) this.#outcomes.failPending(state, blocking)
    const bumps = seq.bumps
    const retry = seq.nextRetry(now)
    this.#stats.epochBumps += seq.bumps - bumps
    this.#outcomes.settle(state)
    if (retry === 'wait') {
      if (seq.needsProducerId && seq.inFlight.length === 0) this.#renewProducerId(state)
      return null
    }
    if (typeof retry === 'number') return retry
    let batch: ProducerBatch
    if (retry !== null) {
      batch = retry
      this.#stats.retries++
      this.#metrics.retried(batch)
    } else {
      const busy = seq.inFlight.length > 0 || this.#pipelines.inFlight(leader) > 0
      if (!state.hasReadyBatch(now, this.#limits, this.#flushAll, busy)) {
        // Held back behind an in-flight request: its answer drains again, no timer needed.
        return busy ? null : state.lingerDeadline(this.#limits)
      }
      // Transaction version 1: the partition joins the transaction before its first batch.
      if (txn !== null && !txn.partitionReady(state.topic, state.partition)) return null
      batch = state.takeBatch(now, this.#limits, RECORD_BATCH_OVERHEAD)
      this.#stats.batchTime.observe(now - batch.createdAt)
    }
    seq.send(batch, leader)
    return { batch, broker: leader }
  }

  /** Batches and records older than deliveryTimeout end (see Sequencer.expire for those already sent). */
  #expireOverdue(state: PartitionState, now: number): void {
    const limit = this.#config.deliveryTimeout
    state.seq.expire(now)
    if (state.pendingCount > 0 && state.oldestPendingAt < now - limit) {
      const records = state.drainPending()
      const batch = new ProducerBatch(state.topic, state.partition, records, -1, state.oldestPendingAt)
      this.#outcomes.fail(batch, new DeliveryTimeoutError(state.topic, state.partition, limit))
    }
    // Nothing later of this partition is left to prove an unresolved batch written.
    if (state.pendingCount === 0) state.seq.settleDangling()
    this.#outcomes.settle(state)
  }

  // --- idempotence --------------------------------------------------------------------------------

  /** The partition was fenced or ran out of epochs: it continues under a new producer id. */
  #renewProducerId(state: PartitionState): void {
    if (this.#txn !== null) {
      // The epoch belongs to the coordinator: the transaction must abort, which brings a new one.
      const cause = state.seq.retries[0]?.errors.at(-1)
      const error = new TransactionAbortableError(
        `a batch for ${state.topic}/${state.partition} failed (${cause instanceof Error ? cause.message : 'sequence gap'}); ` +
          'the transaction must be aborted',
        { cause },
      )
      this.#txn.batchFailed(error, true)
      this.#outcomes.failWaiting(state, error)
      return
    }
    if (state.renewing) return
    state.renewing = true
    this.#idempotence!.renew(state.seq.identity!.producerId).then(
      (identity) => {
        state.renewing = false
        state.seq.adopt(identity)
        this.#outcomes.settle(state)
        this.#scheduleDrain()
      },
      (err: unknown) => {
        state.renewing = false
        this.#outcomes.failWaiting(state, toError(err))
        this.#scheduleDrain()
      },
    )
  }

  // --- metadata, timers, idleness, close ------------------------------------------------------------

  /** Refreshes metadata now, or after writeBackoffMin since the last refresh; returns when to look again. */
  #refreshMetadataSoon(now: number): number {
    const earliest = this.#lastMetadataRefresh + this.#config.writeBackoffMin
    if (this.#metadataRefreshing) return now + this.#config.writeBackoffMin
    if (now < earliest) return earliest
    this.#metadataRefreshing = true
    this.#lastMetadataRefresh = now
    this.#client.metadata.refresh().then(
      () => {
        this.#metadataRefreshing = false
        this.#scheduleDrain()
      },
      () => {
        this.#metadataRefreshing = false
        this.#scheduleDrain()
      },
    )
    return now + this.#config.writeBackoffMin
  }

  #armWake(at: number): void {
    if (at === Infinity || this.#state === 'closed') return
    if (this.#wakeTimer !== null) {
      if (this.#wakeAt <= at) return
      clearTimeout(this.#wakeTimer)
    }
    this.#wakeAt = at
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = null
        this.#wakeAt = Infinity
        this.#drain()
      },
      Math.max(0, at - Date.now()),
    )
  }

  #whenIdle(): Promise<void> {
    if (this.#budget.used === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  #checkIdle(): void {
    if (this.#budget.used !== 0 || this.#idleWaiters.length === 0) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const w of waiters) w()
  }

  async #close(): Promise<void> {
    if (this.#state !== 'open') return
    // As Java's Sender: a graceful close aborts the open transaction rather than leave
    // read_committed readers held back by it until the transaction timeout.
    if (this.#txn?.open === true) {
      const aborted = this.#txn.abortTransaction().catch((err: unknown) => {
        this.#log.warn({ err: toError(err) }, 'aborting the open transaction on close failed')
      })
      await Promise.race([aborted, new Promise((r) => setTimeout(r, this.#config.closeTimeout).unref())])
    }
    this.#state = 'closing'
    this.#budget.rejectAll(new ClosedError('Writer'))
    this.#flushAll = true
    this.#scheduleDrain()
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      this.#whenIdle().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.#config.closeTimeout))),
    ])
    clearTimeout(timer)
    this.#state = 'closed'
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer)
    this.#wakeTimer = null
    if (timedOut) {
      const error = new ClosedError('Writer (close timed out before every message was acknowledged)')
      for (const state of this.#active) this.#outcomes.failWaiting(state, error)
      // In-flight requests fail as their connections are destroyed below.
      this.#client.pool.destroy(error)
    }
    await this.#client.close(Math.min(this.#config.closeTimeout, 5_000))
    const failures = this.#unreported.take()
    if (failures !== null) throw failures
  }

  /** close() on the config's signal: nobody awaits it, so its failures become a process warning. */
  #closeOnAbort(): void {
    this.close().catch((err: unknown) =>
      process.emitWarning(`kafkats Writer closed by its signal: ${toError(err).message}`, {
        code: 'KAFKATS_ASYNC_WRITE_ERRORS',
      }),
    )
  }
}
