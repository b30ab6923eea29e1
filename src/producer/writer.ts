// The Writer (kafka-go's Writer): writeMessages → balancer → per-partition batches → one Produce
// request per broker per flush, pipelined on the broker's produce connection.
//
// The Writer is the single retry owner of every batch: connections and the client below never
// retry on their own. A retried batch keeps its place: nothing else of its partition is sent until
// everything in flight is answered, then retries go out in their original order (see
// idempotence.ts for the sequence-number rules that make retries exactly-once per partition).

import { KafkaTsError, KafkaError, isRetriable } from '../errors.js'
import type { Bytes, Header, Message } from '../message.js'
import { toBytes } from '../message.js'
import type { Input } from '../protocol/api.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { InitProducerId, Produce, type ProduceRequest, type ProduceResponse } from '../protocol/messages/index.js'
import {
  RECORD_BATCH_OVERHEAD,
  encodeRecordBatch,
  type RecordHeader,
  type RecordInput,
} from '../protocol/record-batch.js'
import { KafkaClient } from '../cluster/client.js'
import { RetriesExhaustedError, backoffDelay, retry, type RetryPolicy } from '../cluster/retry.js'
import { ClosedError, abortErrorFor } from '../net/errors.js'
import { ByteBudget, PartitionState, ProducerBatch, type BatchLimits, type PendingRecord } from './accumulator.js'
import { resolveWriterConfig, type ResolvedWriterConfig, type WriterConfig } from './config.js'
import { DeliveryTimeoutError, InvalidMessageError, MessageTooLargeError, WriteErrors } from './errors.js'
import {
  EPOCH_BUMP_ERRORS,
  ProducerIdManager,
  incrementSequence,
  initProducerIdError,
  type ProducerIdentity,
} from './idempotence.js'
import { StatsCollector, type WriterStats } from './stats.js'

export interface WriteOptions {
  /** Stops waiting (for metadata, buffer space or acknowledgements); messages already handed over may still be written. */
  signal?: AbortSignal
}

/** Per-record bytes beyond key, value and headers: the varints of a record, at their largest. */
const RECORD_OVERHEAD = 21
/** Batches per partition in one drain pass: each goes into its own Produce request (one batch per partition per request). */
const MAX_ROUNDS = 5
const INT32_MAX = 0x7fffffff

type WriterState = 'open' | 'closing' | 'closed'

export class Writer {
  readonly #config: ResolvedWriterConfig
  readonly #client: KafkaClient
  readonly #policy: RetryPolicy
  readonly #limits: BatchLimits
  readonly #budget: ByteBudget
  readonly #stats = new StatsCollector()
  readonly #idempotence: ProducerIdManager | null
  readonly #partitions = new Map<string, PartitionState>()
  /** Partitions with anything pending, to retry or in flight. */
  readonly #active = new Set<PartitionState>()
  /** Per broker: the tail of its send chain, so requests reach the connection in the order they were cut. */
  readonly #sinks = new Map<number, Promise<void>>()
  /** Produce requests sent to each broker and not yet answered. */
  readonly #brokerInFlight = new Map<number, number>()
  #state: WriterState = 'open'
  #closing: Promise<void> | null = null
  #flushAll = false
  #drainScheduled = false
  #wakeTimer: NodeJS.Timeout | null = null
  #wakeAt = Infinity
  #metadataRefreshing = false
  #lastMetadataRefresh = 0
  #idleWaiters: (() => void)[] = []

  constructor(config: WriterConfig) {
    this.#config = resolveWriterConfig(config)
    this.#client = new KafkaClient(this.#config.client)
    this.#client.pool.onDial = (ms) => this.#stats.dialTime.observe(ms)
    const c = this.#config
    this.#policy = {
      maxAttempts: c.maxAttempts,
      backoffMs: c.writeBackoffMin,
      backoffMaxMs: c.writeBackoffMax,
      jitter: 0.2,
    }
    this.#limits = { batchSize: c.batchSize, batchBytes: c.batchBytes, lingerMs: c.batchTimeout }
    this.#budget = new ByteBudget(c.bufferMaxBytes)
    this.#idempotence = c.idempotent ? new ProducerIdManager((current) => this.#initProducerId(current)) : null
    if (c.topic !== undefined) this.#client.metadata.addTopics([c.topic])
    const signal = c.signal
    if (signal !== undefined) {
      if (signal.aborted) void this.close()
      else signal.addEventListener('abort', () => void this.close(), { once: true })
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
   * Writes messages. Synchronous mode (the default) resolves once every message is acknowledged
   * and sends them at once rather than waiting for the linger; a failure rejects with the error
   * (one message) or WriteErrors (several). With `async: true` it resolves once the messages are
   * buffered and reports each batch to `completion`. Either way it waits while the buffer is
   * full (backpressure).
   */
  writeMessages(...messages: Message[]): Promise<void>
  writeMessages(messages: readonly Message[], options?: WriteOptions): Promise<void>
  writeMessages(...args: unknown[]): Promise<void> {
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

  /** Sends everything buffered now and resolves once it is all acknowledged (or failed). */
  async flush(): Promise<void> {
    for (const state of this.#active) state.flushRequested = true
    this.#scheduleDrain()
    await this.#whenIdle()
  }

  /** Statistics since the last call (kafka-go's Stats resets its counters the same way). */
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

  /**
   * Flushes what is buffered, waits for it (at most `closeTimeout`), fails whatever is left, and
   * closes the connections. Calls after the first return the same promise.
   */
  close(): Promise<void> {
    if (this.#closing === null) this.#closing = this.#close()
    return this.#closing
  }

  // --- writing ------------------------------------------------------------------------------------

  async #write(messages: readonly Message[], signal: AbortSignal | undefined): Promise<void> {
    if (this.#state !== 'open') throw new ClosedError('Writer')
    if (signal?.aborted) throw abortErrorFor(signal, 'writeMessages')
    if (messages.length === 0) return
    const prepared = messages.map((m, i) => this.#prepare(m, i, messages.length))
    const topics = [...new Set(prepared.map((p) => p.topic))]
    await this.#client.waitForTopics(topics, signal, this.#policy)

    const sync = !this.#config.async
    const tracker = sync ? new WriteTracker(messages.length) : null
    const touched = new Set<PartitionState>()
    try {
      for (let i = 0; i < prepared.length; i++) {
        const p = prepared[i]!
        if (!this.#budget.tryAcquire(p.size)) {
          const started = Date.now()
          await this.#budget.acquire(p.size, signal)
          this.#stats.waitTime.observe(Date.now() - started)
          if (this.#state !== 'open') {
            this.#budget.release(p.size)
            throw new ClosedError('Writer')
          }
        }
        let state: PartitionState
        try {
          state = this.#partitionFor(p.topic, messages[i]!)
        } catch (err) {
          this.#budget.release(p.size)
          throw err
        }
        const record: PendingRecord = {
          record: p.record,
          size: p.size,
          payloadBytes: p.payloadBytes,
          message: messages[i]!,
          settle: tracker === null ? noop : tracker.settler(i),
        }
        state.append(record, Date.now())
        this.#active.add(state)
        touched.add(state)
        // Cut full batches as they fill rather than after the whole call.
        if (state.pendingCount >= this.#config.batchSize || state.pendingBytes >= this.#config.batchBytes)
          this.#scheduleDrain()
      }
    } catch (err) {
      // Messages already handed over go on; their outcome no longer has a listener.
      tracker?.abandon()
      if (sync) for (const state of touched) state.flushRequested = true
      this.#scheduleDrain()
      throw err
    }
    if (tracker === null) {
      this.#scheduleDrain()
      return
    }
    for (const state of touched) state.flushRequested = true
    this.#scheduleDrain()
    await (signal === undefined ? tracker.promise : raceAbortOwned(tracker, signal))
  }

  /** Checks and encodes one message; throws InvalidMessageError / MessageTooLargeError. */
  #prepare(
    message: Message,
    index: number,
    count: number,
  ): { topic: string; record: RecordInput; size: number; payloadBytes: number } {
    const which = count === 1 ? 'message' : `message ${index}`
    if (typeof message !== 'object' || message === null) throw new InvalidMessageError(`${which} is not an object`)
    const writerTopic = this.#config.topic
    if (writerTopic !== undefined && message.topic !== undefined) {
      throw new InvalidMessageError(
        `${which}: the topic is set on both the Writer ('${writerTopic}') and the message ('${message.topic}'); set it in one place`,
      )
    }
    const topic = writerTopic ?? message.topic
    if (typeof topic !== 'string' || topic === '')
      throw new InvalidMessageError(`${which} has no topic, and the Writer has none`)
    const key = bytesOf(message.key, `${which}: key`)
    const value = bytesOf(message.value, `${which}: value`)
    let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0)
    let headers: RecordHeader[] | undefined
    if (message.headers !== undefined) {
      if (!Array.isArray(message.headers))
        throw new InvalidMessageError(`${which}: headers must be an array of { key, value }`)
      headers = message.headers.map((h: Header, j) => {
        if (typeof h?.key !== 'string') throw new InvalidMessageError(`${which}: header ${j} needs a string key`)
        const v = bytesOf(h.value, `${which}: header '${h.key}' value`)
        size += Buffer.byteLength(h.key) + (v?.length ?? 0) + 10
        return { key: h.key, value: v }
      })
    }
    let timestamp: number
    if (message.timestamp === undefined) timestamp = Date.now()
    else if (message.timestamp instanceof Date) timestamp = message.timestamp.getTime()
    else timestamp = message.timestamp
    if (!Number.isSafeInteger(timestamp) || timestamp < -1)
      throw new InvalidMessageError(`${which}: timestamp must be milliseconds since the epoch or a Date`)
    if (size + RECORD_BATCH_OVERHEAD > this.#config.batchBytes)
      throw new MessageTooLargeError(size + RECORD_BATCH_OVERHEAD, this.#config.batchBytes)
    const record: RecordInput = headers === undefined ? { key, value, timestamp } : { key, value, headers, timestamp }
    return { topic, record, size, payloadBytes: (key?.length ?? 0) + (value?.length ?? 0) }
  }

  /** The partition state a message goes to, chosen by the balancer among the topic's partitions. */
  #partitionFor(topic: string, message: Message): PartitionState {
    const info = this.#client.metadata.topic(topic)
    if (info === undefined || info.partitionIds.length === 0) {
      throw KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic, apiName: 'Metadata' })
    }
    const ids = info.partitionIds
    const partition = this.#config.balancer.balance(message, ids)
    // ids is normally 0..n-1, so the first test settles it; includes() covers gaps in the ids.
    if (ids[partition] !== partition && !ids.includes(partition)) {
      throw new KafkaTsError(
        'KAFKATS_BAD_PARTITION',
        `the balancer chose partition ${partition}, which topic '${topic}' does not have (partitions: ${ids.join(', ')})`,
      )
    }
    const key = `${topic}\u0000${partition}`
    let state = this.#partitions.get(key)
    if (state === undefined) this.#partitions.set(key, (state = new PartitionState(topic, partition)))
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
    if (idem !== null && !idem.ready) {
      if (this.#active.size > 0 && !idem.busy) {
        idem.ensure().then(
          () => this.#scheduleDrain(),
          (err: unknown) => this.#failAllWaiting(toError(err)),
        )
      }
      return
    }

    let needMetadata = false
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const byBroker = new Map<number, ProducerBatch[]>()
      for (const state of this.#active) {
        if (state.idle) {
          this.#active.delete(state)
          continue
        }
        const next = this.#takeSendable(state, now)
        if (next === 'no-leader') needMetadata = true
        else if (typeof next === 'number') wakeAt = Math.min(wakeAt, next)
        else if (next !== null) {
          const list = byBroker.get(next.broker)
          if (list === undefined) byBroker.set(next.broker, [next.batch])
          else list.push(next.batch)
        }
      }
      if (byBroker.size === 0) break
      for (const [broker, batches] of byBroker) this.#send(broker, batches)
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
    const c = this.#config
    this.#expireOverdue(state, now)
    if (state.idle) return null
    const info = this.#client.metadata.partition(state.topic, state.partition)
    const leader = info?.leader ?? -1
    if (leader < 0 || this.#client.metadata.broker(leader) === undefined) {
      return state.pendingCount > 0 || state.retries.length > 0 ? 'no-leader' : null
    }
    const idem = this.#idempotence
    const inFlight = state.inFlight.length
    if (inFlight > 0) {
      // Keep order: answers from the old leader first, every answer before a retry, and a cap.
      if (state.inFlightBroker !== leader || state.retries.length > 0) return null
      if (inFlight >= c.maxInFlightRequests) return null
    }
    if (idem !== null && state.rewriteSequences) {
      if (inFlight > 0) return null
      // The broker lost or rejected our sequences for this partition: renumber everything not yet
      // acknowledged, in order, under the current (bumped) epoch.
      state.generation = idem.generation
      state.nextSequence = 0
      for (const batch of state.retries) this.#assignSequence(state, batch)
      state.rewriteSequences = false
    }

    const busy = inFlight > 0 || (this.#brokerInFlight.get(leader) ?? 0) > 0
    let batch: ProducerBatch
    if (state.retries.length > 0) {
      const first = state.retries[0]!
      if (first.nextAttemptAt > now) return first.nextAttemptAt
      batch = state.retries.shift()!
    } else if (state.hasReadyBatch(now, this.#limits, this.#flushAll, busy)) {
      if (idem !== null && state.generation !== idem.generation) {
        // Move to the current epoch only once the batches numbered under the old one are answered.
        if (inFlight > 0) return null
        state.generation = idem.generation
        state.nextSequence = 0
      }
      batch = state.takeBatch(now, this.#limits, RECORD_BATCH_OVERHEAD)
      this.#stats.batchTime.observe(now - batch.createdAt)
    } else {
      // Held back behind an in-flight request: its answer drains again, no timer needed.
      return busy ? null : state.lingerDeadline(this.#limits)
    }
    if (idem !== null && batch.baseSequence < 0) this.#assignSequence(state, batch)
    batch.attempts++
    if (batch.attempts > 1) this.#stats.retries++
    state.inFlight.push(batch)
    state.inFlightBroker = leader
    return { batch, broker: leader }
  }

  #assignSequence(state: PartitionState, batch: ProducerBatch): void {
    const identity = this.#idempotence!.identity!
    batch.producerId = identity.producerId
    batch.producerEpoch = identity.producerEpoch
    batch.generation = this.#idempotence!.generation
    batch.baseSequence = state.nextSequence
    batch.encoded = null
    state.nextSequence = incrementSequence(state.nextSequence, batch.count)
  }

  /** Records and batches older than deliveryTimeout fail (a partition without a leader for that long). */
  #expireOverdue(state: PartitionState, now: number): void {
    const limit = this.#config.deliveryTimeout
    if (state.inFlight.length > 0) return
    const overdue = now - limit
    while (state.retries.length > 0 && state.retries[0]!.createdAt < overdue) {
      const batch = state.retries.shift()!
      this.#fail(
        state,
        batch,
        new DeliveryTimeoutError(state.topic, state.partition, limit, { cause: batch.errors[batch.errors.length - 1] }),
      )
    }
    if (state.pendingCount > 0 && state.oldestPendingAt < overdue) {
      const records = state.drainPending()
      const batch = new ProducerBatch(state.topic, state.partition, records, -1, state.oldestPendingAt)
      this.#fail(state, batch, new DeliveryTimeoutError(state.topic, state.partition, limit))
    }
  }

  #send(broker: number, batches: ProducerBatch[]): void {
    this.#brokerInFlight.set(broker, (this.#brokerInFlight.get(broker) ?? 0) + 1)
    this.#stats.requests++
    this.#stats.writes += batches.length
    const previous = this.#sinks.get(broker) ?? Promise.resolve()
    // #dispatch handles its own failures; the catch only keeps a bug from breaking the chain.
    const next = previous
      .then(() => this.#dispatch(broker, batches))
      .catch((err: unknown) =>
        process.emitWarning(`kafkats Writer: produce dispatch failed: ${toError(err).message}`, {
          code: 'KAFKATS_INTERNAL',
        }),
      )
    this.#sinks.set(broker, next)
  }

  /** Encodes and hands one Produce request to the broker's connection; never rejects. */
  async #dispatch(broker: number, batches: ProducerBatch[]): Promise<void> {
    const c = this.#config
    try {
      await Promise.all(batches.map((b) => this.#encode(b)))
      const { connection, versions } = await this.#client.connection(broker, 'produce')
      const version = versions.pick(Produce, c.compression === 'zstd' ? { min: 7 } : undefined)
      const body = produceRequest(batches, c.acksValue, c.requestTimeout)
      const sentAt = Date.now()
      for (const b of batches) this.#stats.batchQueueTime.observe(sentAt - b.createdAt)
      // Not awaited: the chain only keeps the order in which requests reach the connection;
      // the connection pipelines them.
      if (c.acksValue === 0) {
        connection.sendNoResponse(Produce, version, body).then(
          () => this.#onResponse(broker, batches, null, sentAt),
          (err: unknown) => this.#onRequestError(broker, batches, err),
        )
      } else {
        connection.send(Produce, version, body).then(
          (response) => this.#onResponse(broker, batches, response, sentAt),
          (err: unknown) => this.#onRequestError(broker, batches, err),
        )
      }
    } catch (err) {
      this.#onRequestError(broker, batches, err)
    }
  }

  async #encode(batch: ProducerBatch): Promise<void> {
    if (batch.encoded !== null) return
    const options = {
      records: batch.records.map((r) => r.record),
      compression: this.#config.compression,
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      baseSequence: batch.baseSequence,
    }
    batch.encoded = await encodeRecordBatch(options)
  }

  // --- outcomes -----------------------------------------------------------------------------------

  #onResponse(broker: number, batches: ProducerBatch[], response: ProduceResponse | null, sentAt: number): void {
    this.#requestDone(broker)
    const now = Date.now()
    this.#stats.writeTime.observe(now - sentAt)
    const results = new Map<string, ProduceResponse['responses'][number]['partitionResponses'][number]>()
    if (response !== null) {
      for (const t of response.responses)
        for (const p of t.partitionResponses) results.set(`${t.name}\u0000${p.index}`, p)
    }
    for (const batch of batches) {
      const state = this.#stateOf(batch)
      state.removeInFlight(batch)
      if (response === null) {
        this.#complete(state, batch, -1n) // acks=0: written is all we will ever know
        continue
      }
      const result = results.get(state.key)
      if (result === undefined) {
        this.#fail(
          state,
          batch,
          KafkaError.fromCode(ErrorCode.UNKNOWN_SERVER_ERROR, {
            broker,
            topic: batch.topic,
            partition: batch.partition,
            apiName: 'Produce',
            errorMessage: 'the Produce response did not mention this partition',
          }),
        )
        continue
      }
      this.#onPartitionResult(broker, state, batch, result.errorCode, result.baseOffset, result.errorMessage)
    }
    this.#scheduleDrain()
  }

  #onPartitionResult(
    broker: number,
    state: PartitionState,
    batch: ProducerBatch,
    code: number,
    baseOffset: bigint,
    message: string | null,
  ): void {
    const idem = this.#idempotence
    if (code === ErrorCode.NONE) return this.#complete(state, batch, baseOffset)
    // The broker already has this batch: an earlier attempt was written and its answer lost.
    if (code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER && idem !== null) return this.#complete(state, batch, -1n)
    const error = KafkaError.fromCode(code, {
      broker,
      topic: batch.topic,
      partition: batch.partition,
      apiName: 'Produce',
      errorMessage: message,
    })
    if (error.staleMetadata) this.#client.metadata.markStale()
    if (idem !== null && EPOCH_BUMP_ERRORS.has(code)) {
      // Out of order (or unknown to a broker that never saw our first batch) because an earlier
      // batch failed: that one is resent first, then this one, in order; no bump needed.
      const gapBehind = code !== ErrorCode.INVALID_PRODUCER_EPOCH && state.hasEarlierUnacknowledged(batch)
      if (!gapBehind) {
        state.rewriteSequences = true
        this.#bumpEpoch(batch.generation)
      }
      return this.#retry(state, batch, error)
    }
    if (error.retriable) return this.#retry(state, batch, error)
    this.#fail(state, batch, error)
  }

  #onRequestError(broker: number, batches: ProducerBatch[], err: unknown): void {
    this.#requestDone(broker)
    const error = toError(err)
    if ((error as { staleMetadata?: unknown }).staleMetadata === true) this.#client.metadata.markStale()
    // Later batches of a partition follow earlier ones, so handle them in creation order.
    for (const batch of [...batches].sort((a, b) => a.order - b.order)) {
      const state = this.#stateOf(batch)
      state.removeInFlight(batch)
      if (isRetriable(error)) this.#retry(state, batch, error)
      else this.#fail(state, batch, error)
    }
    this.#scheduleDrain()
  }

  #requestDone(broker: number): void {
    const n = (this.#brokerInFlight.get(broker) ?? 1) - 1
    if (n > 0) this.#brokerInFlight.set(broker, n)
    else this.#brokerInFlight.delete(broker)
  }

  /** Queues a batch for another attempt after a backoff, or fails it when its attempts ran out. */
  #retry(state: PartitionState, batch: ProducerBatch, error: Error): void {
    batch.errors.push(error)
    if (this.#state === 'closed') return this.#fail(state, batch, error)
    if (batch.attempts >= this.#config.maxAttempts) {
      return this.#fail(
        state,
        batch,
        new RetriesExhaustedError(`producing to ${batch.topic}/${batch.partition}`, batch.errors),
      )
    }
    batch.nextAttemptAt = Date.now() + backoffDelay(this.#policy, Math.max(1, batch.attempts))
    state.addRetry(batch)
    if ((error as { staleMetadata?: unknown }).staleMetadata === true) void this.#refreshMetadataSoon(Date.now())
  }

  #complete(state: PartitionState, batch: ProducerBatch, baseOffset: bigint): void {
    this.#budget.release(batch.bytes)
    this.#stats.messages += batch.count
    this.#stats.bytes += batch.payloadBytes
    this.#stats.batchSize.observe(batch.count)
    this.#stats.batchBytes.observe(batch.encoded?.length ?? batch.bytes)
    const records = batch.records
    for (let i = 0; i < records.length; i++) records[i]!.settle(null, baseOffset >= 0n ? baseOffset + BigInt(i) : -1n)
    this.#report(batch, null, baseOffset)
    if (state.idle) this.#active.delete(state)
    this.#checkIdle()
  }

  #fail(state: PartitionState, batch: ProducerBatch, error: Error): void {
    this.#budget.release(batch.bytes)
    this.#stats.errors++
    this.#stats.messageErrors += batch.count
    for (const r of batch.records) r.settle(error, -1n)
    this.#report(batch, error, -1n)
    // A numbered batch that will never be written leaves a gap in the partition's sequences; the
    // broker would reject everything after it. Renumber the rest under a bumped epoch.
    const idem = this.#idempotence
    if (idem !== null && batch.baseSequence >= 0 && this.#state !== 'closed') {
      state.rewriteSequences = true
      this.#bumpEpoch(batch.generation)
    }
    if (state.idle) this.#active.delete(state)
    this.#checkIdle()
  }

  /** Async mode: tell the user how a batch went (kafka-go's Completion). */
  #report(batch: ProducerBatch, error: Error | null, baseOffset: bigint): void {
    const completion = this.#config.completion
    if (completion === undefined) return
    const messages = batch.records.map((r, i): Message => {
      const m: Message = { ...r.message, topic: batch.topic, partition: batch.partition, timestamp: r.record.timestamp }
      if (baseOffset >= 0n) m.offset = baseOffset + BigInt(i)
      return m
    })
    try {
      completion(messages, error)
    } catch (err) {
      // A throwing callback must not break the Writer's bookkeeping.
      process.emitWarning(`kafkats Writer completion callback threw: ${toError(err).message}`, {
        code: 'KAFKATS_COMPLETION_THREW',
      })
    }
  }

  #stateOf(batch: ProducerBatch): PartitionState {
    return this.#partitions.get(`${batch.topic}\u0000${batch.partition}`)!
  }

  // --- idempotence --------------------------------------------------------------------------------

  #bumpEpoch(generation: number): void {
    const idem = this.#idempotence!
    const before = idem.bumps
    idem.requestBump(generation).then(
      () => this.#scheduleDrain(),
      (err: unknown) => this.#failAllWaiting(toError(err)),
    )
    if (idem.bumps !== before) this.#stats.epochBumps++
  }

  /** InitProducerId: a new producer id, or (KIP-360) our id with the epoch bumped. The retry owner of that request. */
  #initProducerId(current: ProducerIdentity | null): Promise<ProducerIdentity> {
    return retry(
      this.#policy,
      async () => {
        const response = await this.#client.requestTo(
          this.#client.anyBroker(),
          InitProducerId,
          (version) => ({
            transactionalId: null,
            // Java's idempotent producer sends Integer.MAX_VALUE: there is no transaction to time out.
            transactionTimeoutMs: INT32_MAX,
            // Bumping our own epoch needs v3+; an older broker gets asked for a fresh id instead.
            producerId: current !== null && version >= 3 ? current.producerId : -1n,
            producerEpoch: current !== null && version >= 3 ? current.producerEpoch : -1,
          }),
          { workload: 'admin' },
        )
        const error = initProducerIdError(response.errorCode)
        if (error !== null) throw error
        return { producerId: response.producerId, producerEpoch: response.producerEpoch }
      },
      { what: 'InitProducerId' },
    )
  }

  /** Obtaining a producer id failed for good: fail everything not in flight. */
  #failAllWaiting(error: Error): void {
    for (const state of this.#active) {
      while (state.retries.length > 0) this.#fail(state, state.retries.shift()!, error)
      if (state.pendingCount > 0) {
        const batch = new ProducerBatch(state.topic, state.partition, state.drainPending(), -1, state.oldestPendingAt)
        this.#fail(state, batch, error)
      }
    }
    this.#scheduleDrain()
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
      for (const state of this.#active) {
        while (state.retries.length > 0) this.#fail(state, state.retries.shift()!, error)
        if (state.pendingCount > 0)
          this.#fail(state, new ProducerBatch(state.topic, state.partition, state.drainPending(), -1, 0), error)
      }
      // In-flight requests fail as their connections are destroyed below.
      this.#client.pool.destroy(error)
    }
    await this.#client.close(Math.min(this.#config.closeTimeout, 5_000))
  }
}

/** Collects the outcome of each message of one synchronous writeMessages call. */
class WriteTracker {
  readonly promise: Promise<void>
  #resolve!: () => void
  #reject!: (err: Error) => void
  #remaining: number
  readonly #errors: (Error | undefined)[]
  #failed = 0

  constructor(count: number) {
    this.#remaining = count
    this.#errors = new Array<Error | undefined>(count)
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  settler(index: number): (error: Error | null) => void {
    return (error) => {
      if (error !== null) {
        this.#errors[index] = error
        this.#failed++
      }
      if (--this.#remaining > 0) return
      if (this.#failed === 0) this.#resolve()
      else if (this.#errors.length === 1) this.#reject(this.#errors[0]!)
      else this.#reject(new WriteErrors(this.#errors))
    }
  }

  /** Nobody will await the promise: keep a late rejection from being reported as unhandled. */
  abandon(): void {
    this.promise.catch(noop)
  }
}

/** Awaits the tracker unless the signal fires first; either way its late outcome is handled. */
function raceAbortOwned(tracker: WriteTracker, signal: AbortSignal): Promise<void> {
  tracker.abandon()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortErrorFor(signal, 'writeMessages'))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    tracker.promise.then(
      () => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}

/** One Produce request for batches of distinct partitions, grouped by topic. */
function produceRequest(batches: readonly ProducerBatch[], acks: number, timeoutMs: number): Input<ProduceRequest> {
  const byTopic = new Map<string, { index: number; records: Buffer }[]>()
  for (const b of batches) {
    let list = byTopic.get(b.topic)
    if (list === undefined) byTopic.set(b.topic, (list = []))
    list.push({ index: b.partition, records: b.encoded! })
  }
  return {
    transactionalId: null,
    acks,
    timeoutMs: Math.min(timeoutMs, INT32_MAX),
    topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
  }
}

function bytesOf(value: Bytes | undefined, what: string): Buffer | null {
  if (value === undefined || value === null || typeof value === 'string' || value instanceof Uint8Array)
    return toBytes(value)
  throw new InvalidMessageError(`${what} must be a string, a Uint8Array/Buffer or null`)
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

function noop(): void {}
