// How each batch of the Writer ends: a Produce answer or a failed request turned into one outcome
// per batch for the partition's sequencer, and the batches it settled reported (records, async
// completion, stats and metrics, flush generations, the buffer). Also failing what waits in a
// partition when it cannot go on (fenced, out of producer ids, closed). What is sent, and when,
// stays with the Writer (writer.ts).

import { KafkaError, isRetriable } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Message } from '../message.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { ProduceResponse } from '../protocol/messages/index.js'
import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, type RetryPolicy } from '../cluster/retry.js'
import { ClosedError } from '../net/errors.js'
import { ProducerBatch, type ByteBudget, type PartitionState } from './accumulator.js'
import type { ResolvedWriterConfig } from './config.js'
import { settlementError, toError, tooLargeDetail, type UnreportedFailures } from './errors.js'
import type { FlushGenerations } from './flush.js'
import type { ProducerMetrics } from './metrics.js'
import type { ProducePipelines } from './pipeline.js'
import { partitionResults } from './requests.js'
import { outcomeOfCode, type Outcome } from './sequencer.js'
import type { StatsCollector } from './stats.js'
import type { TransactionManager } from './transactions.js'

/** The Writer's state and callbacks the outcomes read and touch. */
export interface WriterOutcomesParts {
  client: KafkaClient
  config: ResolvedWriterConfig
  policy: RetryPolicy
  log: Logger
  budget: ByteBudget
  stats: StatsCollector
  metrics: ProducerMetrics
  pipelines: ProducePipelines
  txn: TransactionManager | null
  flushes: FlushGenerations
  unreported: UnreportedFailures
  /** The Writer's partition states per topic, indexed by partition id. */
  byTopic: ReadonlyMap<string, PartitionState[]>
  /** Partitions with anything pending, to retry or in flight: a partition leaves once idle. */
  active: Set<PartitionState>
  /** The Writer is closed: nothing will be sent again. */
  closed: () => boolean
  scheduleDrain: () => void
  refreshMetadataSoon: (now: number) => number
  /** Resolves close()'s wait once the buffer is empty. */
  checkIdle: () => void
}

export class WriterOutcomes {
  readonly #client: KafkaClient
  readonly #config: ResolvedWriterConfig
  readonly #policy: RetryPolicy
  readonly #log: Logger
  readonly #budget: ByteBudget
  readonly #stats: StatsCollector
  readonly #metrics: ProducerMetrics
  readonly #pipelines: ProducePipelines
  readonly #txn: TransactionManager | null
  readonly #flushes: FlushGenerations
  readonly #unreported: UnreportedFailures
  readonly #byTopic: ReadonlyMap<string, PartitionState[]>
  readonly #active: Set<PartitionState>
  readonly #closed: () => boolean
  readonly #scheduleDrain: () => void
  readonly #refreshMetadataSoon: (now: number) => number
  readonly #checkIdle: () => void

  constructor(parts: WriterOutcomesParts) {
    this.#client = parts.client
    this.#config = parts.config
    this.#policy = parts.policy
    this.#log = parts.log
    this.#budget = parts.budget
    this.#stats = parts.stats
    this.#metrics = parts.metrics
    this.#pipelines = parts.pipelines
    this.#txn = parts.txn
    this.#flushes = parts.flushes
    this.#unreported = parts.unreported
    this.#byTopic = parts.byTopic
    this.#active = parts.active
    this.#closed = parts.closed
    this.#scheduleDrain = parts.scheduleDrain
    this.#refreshMetadataSoon = parts.refreshMetadataSoon
    this.#checkIdle = parts.checkIdle
  }

  /** A Produce answer (null under acks=0): one outcome per batch; too-large batches split and retried. */
  onResponse(broker: number, batches: ProducerBatch[], response: ProduceResponse | null, sentAt: number): void {
    this.#pipelines.requestDone(broker)
    const now = Date.now()
    this.#stats.writeTime.observe(now - sentAt)
    if (response !== null) this.#metrics.answered(now - sentAt)
    const results = partitionResults(response)
    for (const batch of batches) {
      const state = this.#stateOf(batch)
      if (response === null) {
        // acks=0: written is all we will ever know.
        this.#outcome(state, batch, { kind: 'written', baseOffset: -1n }, null)
        continue
      }
      const result = results.get(state.key)
      const code = result?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
      if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
        this.#outcome(state, batch, outcomeOfCode(code, false, result?.baseOffset ?? -1n), null)
        continue
      }
      const tooLarge = code === ErrorCode.MESSAGE_TOO_LARGE || code === ErrorCode.RECORD_LIST_TOO_LARGE
      // Java splits such a batch and retries the halves (Sender.completeBatch, splitAndReenqueue).
      if (tooLarge && batch.count > 1 && state.seq.split(batch, batch.split(), now)) {
        this.#stats.splits++
        continue
      }
      const error = KafkaError.fromCode(code, {
        broker,
        topic: batch.topic,
        partition: batch.partition,
        apiName: 'Produce',
        errorMessage:
          result === undefined
            ? 'the Produce response did not mention this partition'
            : (result.errorMessage ?? (tooLarge ? tooLargeDetail(batch) : null)),
      })
      // KIP-951: a NOT_LEADER_OR_FOLLOWER that names a newer leader moves the partition without
      // a metadata round trip; anything else marks the metadata stale.
      const hinted =
        code === ErrorCode.NOT_LEADER_OR_FOLLOWER &&
        result !== undefined &&
        this.#client.metadata.applyLeaderHint(
          batch.topic,
          batch.partition,
          result.currentLeader,
          response.nodeEndpoints,
        )
      if (error.staleMetadata && !hinted) this.#client.metadata.markStale()
      // A response without our partition says nothing about whether it was appended.
      const outcome = result === undefined ? { kind: 'lost' as const } : outcomeOfCode(code, error.retriable, -1n)
      this.#outcome(state, batch, outcome, error, hinted)
    }
    this.#scheduleDrain()
  }

  /** The Produce request failed or was never answered: every batch of it lost (outcome unknown) or failed. */
  onRequestError(broker: number, batches: ProducerBatch[], err: unknown): void {
    this.#pipelines.requestDone(broker)
    const error = toError(err)
    if ((error as { staleMetadata?: unknown }).staleMetadata === true) this.#client.metadata.markStale()
    // Later batches of a partition follow earlier ones, so handle them in creation order. The
    // request may have reached the broker: a retriable failure leaves the outcome unknown.
    // A ClosedError comes from close() destroying connections with requests on the wire.
    const outcome: Outcome = isRetriable(error) || error instanceof ClosedError ? { kind: 'lost' } : { kind: 'fatal' }
    for (const batch of [...batches].sort((a, b) => a.order - b.order))
      this.#outcome(this.#stateOf(batch), batch, outcome, error)
    this.#scheduleDrain()
  }

  /** Hands one attempt's outcome to the partition's sequencer and reports what it settled. */
  #outcome(state: PartitionState, batch: ProducerBatch, outcome: Outcome, error: Error | null, hinted = false): void {
    if (error !== null) batch.errors.push(error)
    // Closed: nothing will be sent again, so whatever would be retried ends now.
    const closed = this.#closed()
    const retryAt = closed ? Infinity : Date.now() + backoffDelay(this.#policy, Math.max(1, batch.attempts))
    state.seq.onOutcome(batch, outcome, retryAt)
    if (closed) state.seq.failWaiting('error')
    if (!hinted && error !== null && (error as { staleMetadata?: unknown }).staleMetadata === true)
      void this.#refreshMetadataSoon(Date.now())
    this.settle(state)
  }

  /** Reports every batch the partition's sequencer settled. */
  settle(state: PartitionState): void {
    const settled = state.seq.settled
    if (settled.length === 0) return
    for (const s of settled.splice(0)) {
      if (s.written) this.#complete(s.batch, s.baseOffset)
      else this.fail(s.batch, settlementError(s, this.#config.deliveryTimeout))
    }
    if (state.idle) this.#active.delete(state)
  }

  /** A batch written: its records, completion, stats and metrics learn their offsets. */
  #complete(batch: ProducerBatch, baseOffset: bigint): void {
    this.#budget.release(batch.bytes)
    this.#stats.messages += batch.count
    this.#stats.bytes += batch.payloadBytes
    this.#stats.batchSize.observe(batch.count)
    this.#stats.batchBytes.observe(batch.encoded?.length ?? batch.bytes)
    const records = batch.records
    for (let i = 0; i < records.length; i++) records[i]!.settle(null, baseOffset >= 0n ? baseOffset + BigInt(i) : -1n)
    this.#report(batch, null, baseOffset)
    this.#metrics.completed(batch, baseOffset)
    this.#flushes.settled(records)
    this.#checkIdle()
  }

  /** A batch that ends unwritten: its records, completion (or the next flush()/close()) and the transaction learn why. */
  fail(batch: ProducerBatch, error: Error): void {
    this.#txn?.batchFailed(error, batch.baseSequence >= 0)
    this.#budget.release(batch.bytes)
    this.#stats.errors++
    this.#stats.messageErrors += batch.count
    this.#metrics.failed(batch, error)
    for (const r of batch.records) r.settle(error, -1n)
    this.#report(batch, error, -1n)
    this.#flushes.settled(batch.records)
    this.#checkIdle()
  }

  /** Async mode: tell the user how a batch went (kafka-go's Completion), or keep a failure for flush()/close(). */
  #report(batch: ProducerBatch, error: Error | null, baseOffset: bigint): void {
    const completion = this.#config.completion
    if (completion === undefined) {
      // A synchronous write's failures reach its caller through the tracker.
      if (error !== null && this.#config.async) this.#unreported.add(error, batch.count)
      return
    }
    const messages = batch.records.map((r, i): Message => {
      const m: Message = { ...r.message, topic: batch.topic, partition: batch.partition, timestamp: r.record.timestamp }
      if (baseOffset >= 0n) m.offset = baseOffset + BigInt(i)
      return m
    })
    try {
      completion(messages, error)
    } catch (err) {
      // A throwing callback must not break the Writer's bookkeeping.
      this.#log.error({ err: toError(err) }, 'the completion callback threw')
    }
  }

  #stateOf(batch: ProducerBatch): PartitionState {
    return this.#byTopic.get(batch.topic)![batch.partition]!
  }

  /** Fails everything of a partition that is not in flight: its records, retries and unresolved batches. */
  failWaiting(state: PartitionState, error: Error): void {
    for (const b of state.seq.retries) b.errors.push(error)
    state.seq.failWaiting('error')
    this.settle(state)
    this.failPending(state, error)
    if (state.idle) this.#active.delete(state)
  }

  /** Fails the partition's records not yet cut into a batch. */
  failPending(state: PartitionState, error: Error): void {
    if (state.pendingCount === 0) return
    const batch = new ProducerBatch(state.topic, state.partition, state.drainPending(), -1, state.oldestPendingAt)
    this.fail(batch, error)
  }

  /** Obtaining the first producer id failed for good: fail everything not in flight. */
  failAllWaiting(error: Error): void {
    for (const state of this.#active) this.failWaiting(state, error)
    this.#scheduleDrain()
  }
}
