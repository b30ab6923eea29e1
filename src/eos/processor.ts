// TransactionalProcessor: exactly-once consume-transform-produce over a group Reader and a
// transactional Writer (issue 12 item 5). franz-go's GroupTransactSession and Java's
// poll/begin/send/sendOffsetsToTransaction/commit loop are the models (design only).
//
// One fetched batch (one partition's chunk) is one transaction: begin, the handler's sends, the
// input offsets with the group membership the batch was fetched under (KIP-447), commit.
//
// Rebalances: a revocation waits for what the Reader handed out (src/consumer/handout.ts, up to
// rebalanceTimeout), and the processor releases a batch only once its transaction has ended, so
// the usual outcome is Java's: the open transaction commits before the partition moves. If the
// generation moves on anyway (a handler slower than rebalanceTimeout, a member fenced or timed
// out), the offsets go out with the generation of the fetch and the group coordinator refuses
// them, or the processor sees the new generation first: either way the transaction aborts and
// the partition is rewound to the committed offset. Never committing under a newer generation
// matters: an eager rebalance that gives the partition back restarts it from the committed
// offset, so committing the old batch would mark as done records delivered again.
//
// After an abort the Reader's position is past records whose results were thrown away: the
// partition is moved back to the group's committed offset (OffsetFetch waits for pending
// transactional offsets), retried before the next fetch when that lookup fails.

import type { Reader } from '../consumer/reader.js'
import type { MessageBatch } from '../consumer/queue.js'
import type { TopicPartition } from '../consumer/config.js'
import { CommitRejectedError, ReaderStateError } from '../consumer/errors.js'
import { AbortError } from '../net/errors.js'
import { ConfigError } from '../errors.js'
import type { Writer, Transaction } from '../producer/writer.js'
import type { GroupMetadata } from '../producer/txn-requests.js'
import { ProducerFencedError, TransactionOutcomeUnknownError } from '../producer/transaction-errors.js'
import type { Message } from '../message.js'

/** Writes the handler's output records into the open transaction (the Writer's writeMessages). */
export type Send = Transaction['writeMessages']

/** The user's processing of one batch: everything it sends commits with the batch's offsets, or nothing does. */
export type BatchHandler = (batch: MessageBatch, send: Send) => Promise<void> | void

export interface TransactionalProcessorConfig {
  /** A group Reader (groupId); read_committed (the default) when the input is written transactionally. */
  reader: Reader
  /** A transactional Writer (transactionalId), one per processing instance, stable across restarts. */
  writer: Writer
}

export interface ProcessOptions {
  /** Stops waiting for the next batch; a transaction under way still ends (commit or abort). */
  signal?: AbortSignal
}

/** What one processBatch call did. */
export type BatchOutcome = 'committed' | 'rebalanced'

export interface TransactionalProcessorStats {
  /** Transactions committed (batches whose outputs and offsets became visible). */
  committed: number
  /** Transactions aborted (handler errors, rebalances, failed commits); their batches were rewound. */
  aborted: number
  /** Input records in committed transactions. */
  records: number
}

export class TransactionalProcessor {
  readonly #reader: Reader
  readonly #writer: Writer
  readonly #stats: TransactionalProcessorStats = { committed: 0, aborted: 0, records: 0 }
  /** Partitions whose position is past an aborted batch: moved back before the next fetch. */
  readonly #rewinds = new Map<string, { tp: TopicPartition; fallback: bigint }>()
  /** A commit whose outcome is unknown (EndTxn unanswered): asked again before anything else. */
  #unknownCommit: MessageBatch | null = null
  /** An abort that did not complete: sent again before the next transaction. */
  #abortPending = false
  /** A newer instance took over the transactional id: nothing more to do here. */
  #fenced: ProducerFencedError | null = null
  #running = false

  constructor(config: TransactionalProcessorConfig) {
    const { reader, writer } = config ?? {}
    if (typeof reader?.fetchBatch !== 'function' || typeof reader.groupMetadata !== 'function')
      throw new ConfigError('reader', 'must be a Reader')
    if (reader.groupId === undefined) throw new ConfigError('reader', 'must be in a consumer group (groupId)')
    // Whether it is transactional shows at the first beginTransaction (TransactionStateError).
    if (typeof writer?.beginTransaction !== 'function')
      throw new ConfigError('writer', 'must be a transactional Writer (transactionalId)')
    this.#reader = reader
    this.#writer = writer
  }

  stats(): TransactionalProcessorStats {
    return { ...this.#stats }
  }

  /**
   * Processes batches until `signal` fires (resolves) or a batch fails: a handler error, a fenced
   * Writer (ProducerFencedError: a newer instance took over) or a failed commit rejects, after the
   * transaction was aborted and the Reader rewound, so calling process again redoes the batch.
   * Rebalances are not failures: the batch is aborted and read again by its partition's owner.
   */
  async process(handler: BatchHandler, options: ProcessOptions = {}): Promise<void> {
    for (;;) {
      try {
        await this.processBatch(handler, options)
      } catch (err) {
        if (err instanceof AbortError && options.signal?.aborted === true) return
        throw err
      }
    }
  }

  /** Fetches the next batch and processes it in one transaction (see process). */
  async processBatch(handler: BatchHandler, options: ProcessOptions = {}): Promise<BatchOutcome> {
    if (this.#running) throw new ReaderStateError('TransactionalProcessor: one batch at a time')
    if (this.#fenced !== null) throw this.#fenced
    this.#running = true
    try {
      await this.#recover()
      let batch: MessageBatch
      let group: GroupMetadata
      do {
        batch = await this.#reader.fetchBatch(options.signal === undefined ? {} : { signal: options.signal })
        // The membership the batch was fetched under: its offsets are committed under it or not at all.
        group = this.#reader.groupMetadata()
      } while (batch.messages.length === 0)
      return await this.#transact(batch, group, handler)
    } catch (err) {
      if (err instanceof ProducerFencedError) this.#fenced = err
      throw err
    } finally {
      this.#reader.release()
      this.#running = false
    }
  }

  async #transact(batch: MessageBatch, group: GroupMetadata, handler: BatchHandler): Promise<BatchOutcome> {
    const writer = this.#writer
    try {
      await writer.beginTransaction()
    } catch (err) {
      // Not processed: the batch must be read again (after a retry, or by the partition's next owner).
      this.#scheduleRewind(batch)
      await this.#rewind().catch(() => undefined)
      throw err
    }
    let handled = false
    try {
      await handler(batch, writer.writeMessages.bind(writer) as Send)
      handled = true
      const generation = this.#reader.generationId
      if (generation !== group.generationId)
        throw new CommitRejectedError(
          'rebalanced',
          offsetsOf(batch),
          `the group moved from generation ${group.generationId} to ${generation} during the transaction`,
        )
      await writer.sendOffsets({ groupMetadata: () => group }, batch.messages as Message[])
    } catch (err) {
      await this.#abort(batch)
      // The group refused the offsets (or would have): not a failure, the batch is read again.
      if (handled && err instanceof CommitRejectedError) return 'rebalanced'
      throw err
    }
    try {
      await writer.commitTransaction()
    } catch (err) {
      if (err instanceof TransactionOutcomeUnknownError) {
        // It may have committed: never rewind (that would process the batch twice).
        this.#unknownCommit = batch
        throw err
      }
      await this.#abort(batch)
      throw err
    }
    this.#stats.committed++
    this.#stats.records += batch.messages.length
    return 'committed'
  }

  /** Aborts the open transaction and moves the batch's partition back to its committed offset. */
  async #abort(batch: MessageBatch): Promise<void> {
    this.#stats.aborted++
    this.#scheduleRewind(batch)
    try {
      await this.#writer.abortTransaction()
      this.#abortPending = false
    } catch (err) {
      // Fenced: the coordinator aborted it for the newer instance. Otherwise try again later.
      if (!(err instanceof ProducerFencedError)) this.#abortPending = true
      await this.#rewind().catch(() => undefined)
      throw err
    }
    await this.#rewind()
  }

  /** Before a fetch: learns an unknown commit outcome, ends a pending abort, does pending rewinds. */
  async #recover(): Promise<void> {
    const unknown = this.#unknownCommit
    if (unknown !== null) {
      try {
        await this.#writer.commitTransaction()
        this.#unknownCommit = null
        this.#stats.committed++
        this.#stats.records += unknown.messages.length
      } catch (err) {
        if (err instanceof TransactionOutcomeUnknownError) throw err
        this.#unknownCommit = null
        await this.#abort(unknown)
      }
    }
    if (this.#abortPending) {
      await this.#writer.abortTransaction()
      this.#abortPending = false
    }
    await this.#rewind()
  }

  #scheduleRewind(batch: MessageBatch): void {
    this.#rewinds.set(`${batch.topic}\u0000${batch.partition}`, {
      tp: { topic: batch.topic, partition: batch.partition },
      fallback: batch.messages[0]!.offset,
    })
  }

  async #rewind(): Promise<void> {
    if (this.#rewinds.size === 0) return
    const assigned = new Set(this.#reader.assignment().map((p) => `${p.topic}\u0000${p.partition}`))
    const pending = [...this.#rewinds.entries()]
    // Partitions that moved away restart from the committed offset at their new owner.
    for (const [key] of pending) if (!assigned.has(key)) this.#rewinds.delete(key)
    const mine = pending.filter(([key]) => assigned.has(key))
    if (mine.length === 0) return
    const committed = await this.#reader.committed(mine.map(([, r]) => r.tp))
    for (const [i, c] of committed.entries()) {
      const [key, rewind] = mine[i]!
      try {
        // No commit yet: the batch started where the group's reset policy put the partition.
        this.#reader.seek(c.topic, c.partition, c.offset ?? rewind.fallback)
      } catch (err) {
        // Revoked during the lookup: its next owner starts from the committed offset.
        if (!(err instanceof ReaderStateError)) throw err
      }
      this.#rewinds.delete(key)
    }
  }
}

function offsetsOf(batch: MessageBatch): { topic: string; partition: number; offset: bigint }[] {
  const last = batch.messages.at(-1)
  return last === undefined ? [] : [{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1n }]
}
