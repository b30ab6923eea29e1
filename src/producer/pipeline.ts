// Per-broker Produce pipelines: the Writer's requests to one broker reach its connection in the
// order they were cut (one promise chain per broker), each batch encoded just before its request
// goes out, and the requests each broker has not answered yet are counted so the Writer can keep
// to maxInFlightRequests. What an answer means is the Writer's business (its handlers).

import type { KafkaClient } from '../cluster/client.js'
import type { Logger } from '../logger.js'
import { Produce, type ProduceResponse } from '../protocol/messages/index.js'
import { encodeRecordBatch, encodeRecordBatchSync, type EncodeBatchOptions } from '../protocol/record-batch.js'
import type { ProducerBatch } from './accumulator.js'
import { produceTimeoutMs, type ResolvedWriterConfig } from './config.js'
import { toError } from './errors.js'
import { produceRequest } from './requests.js'
import type { ProducerMetrics } from './metrics.js'
import type { StatsCollector } from './stats.js'
import type { TransactionManager } from './transactions.js'

export interface ProduceHandlers {
  /** The broker answered (null under acks=0, where being written is all we learn). */
  onResponse(broker: number, batches: ProducerBatch[], response: ProduceResponse | null, sentAt: number): void
  /** The request failed, or could not be encoded or sent. */
  onRequestError(broker: number, batches: ProducerBatch[], err: unknown): void
}

export interface ProducePipelineOptions {
  client: KafkaClient
  config: ResolvedWriterConfig
  /** Set when the Writer is transactional: caps the Produce version, marks batches transactional. */
  txn: TransactionManager | null
  stats: StatsCollector
  metrics: ProducerMetrics
  log: Logger
  handlers: ProduceHandlers
}

export class ProducePipelines {
  readonly #client: KafkaClient
  readonly #config: ResolvedWriterConfig
  readonly #txn: TransactionManager | null
  readonly #stats: StatsCollector
  readonly #metrics: ProducerMetrics
  readonly #log: Logger
  readonly #handlers: ProduceHandlers
  /** Per broker: the tail of its send chain, so requests reach the connection in the order they were cut. */
  readonly #sinks = new Map<number, Promise<void>>()
  /** Produce requests sent to each broker and not yet answered. */
  readonly #brokerInFlight = new Map<number, number>()

  constructor(options: ProducePipelineOptions) {
    this.#client = options.client
    this.#config = options.config
    this.#txn = options.txn
    this.#stats = options.stats
    this.#metrics = options.metrics
    this.#log = options.log
    this.#handlers = options.handlers
  }

  /** Produce requests sent to `broker` and not yet answered. */
  inFlight(broker: number): number {
    return this.#brokerInFlight.get(broker) ?? 0
  }

  send(broker: number, batches: ProducerBatch[]): void {
    this.#brokerInFlight.set(broker, (this.#brokerInFlight.get(broker) ?? 0) + 1)
    this.#stats.requests++
    this.#stats.writes += batches.length
    const previous = this.#sinks.get(broker) ?? Promise.resolve()
    // #dispatch handles its own failures; the catch only keeps a bug from breaking the chain.
    const next = previous
      .then(() => this.#dispatch(broker, batches))
      .catch((err: unknown) => this.#log.error({ err: toError(err) }, 'produce dispatch failed (a kafkats bug)'))
    this.#sinks.set(broker, next)
  }

  /** One of `broker`'s requests was answered or failed. */
  requestDone(broker: number): void {
    // Kept at 0 rather than deleted: one request at a time would otherwise shrink and regrow the
    // Map's table at every answer (garbage per awaited send). One entry per broker at most.
    this.#brokerInFlight.set(broker, Math.max(0, (this.#brokerInFlight.get(broker) ?? 1) - 1))
  }

  /** Encodes and hands one Produce request to the broker's connection; never rejects. */
  async #dispatch(broker: number, batches: ProducerBatch[]): Promise<void> {
    const c = this.#config
    try {
      // Uncompressed batches encode synchronously: no promise per batch, no extra microtask hop.
      if (c.compression === 'none') for (const b of batches) b.encoded ??= encodeRecordBatchSync(this.#batchOptions(b))
      else await Promise.all(batches.map((b) => this.#encode(b)))
      const { connection, versions } = await this.#client.connection(broker, 'produce')
      const version = versions.pick(Produce, {
        min: c.compression === 'zstd' ? 7 : undefined,
        max: this.#txn?.produceMaxVersion,
      })
      const body = produceRequest(batches, c.acksValue, produceTimeoutMs(c.requestTimeout), c.transactionalId)
      const sentAt = Date.now()
      for (const b of batches) this.#stats.batchQueueTime.observe(sentAt - b.createdAt)
      this.#metrics.sent(batches)
      // Not awaited: the chain only keeps the order in which requests reach the connection;
      // the connection pipelines them.
      if (c.acksValue === 0) {
        connection.sendNoResponse(Produce, version, body).then(
          () => this.#handlers.onResponse(broker, batches, null, sentAt),
          (err: unknown) => this.#handlers.onRequestError(broker, batches, err),
        )
      } else {
        connection.send(Produce, version, body).then(
          (response) => this.#handlers.onResponse(broker, batches, response, sentAt),
          (err: unknown) => this.#handlers.onRequestError(broker, batches, err),
        )
      }
    } catch (err) {
      this.#handlers.onRequestError(broker, batches, err)
    }
  }

  async #encode(batch: ProducerBatch): Promise<void> {
    if (batch.encoded !== null) return
    batch.encoded = await encodeRecordBatch(this.#batchOptions(batch))
  }

  #batchOptions(batch: ProducerBatch): EncodeBatchOptions {
    return {
      records: batch.records.map((r) => r.record),
      compression: this.#config.compression,
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      baseSequence: batch.baseSequence,
      transactional: this.#txn !== null,
    }
  }
}
