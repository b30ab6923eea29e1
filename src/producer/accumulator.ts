// Where messages wait between writeMessages and a Produce request: a queue per partition, cut into
// batches by count, bytes or linger, plus a byte budget over everything buffered so that a
// producer faster than the cluster waits (backpressure reaches the caller) instead of growing
// memory without bound (Java's buffer.memory, franz-go's MaxBufferedBytes).

import type { Message } from '../message.js'
import type { RecordInput } from '../protocol/record-batch.js'
import { abortErrorFor } from '../net/errors.js'
import { Sequencer, type SequencerOptions } from './sequencer.js'

/** One message on its way: encoded fields, its size, and how to report its fate. */
export interface PendingRecord {
  record: RecordInput
  /** Bytes this record is charged against the buffer (an estimate of its encoded size). */
  size: number
  /** Bytes of key + value, as kafka-go counts message bytes. */
  payloadBytes: number
  message: Message
  /** The Writer's flush generation when it was handed over (flush() waits for older ones). */
  flushEpoch: number
  /** Called once: null on success with the record's offset (-1n when unknown: acks=0, duplicates). */
  settle: (error: Error | null, offset: bigint) => void
}

let batchIds = 0

/** Records of one partition sent together in one Produce request. */
export class ProducerBatch {
  readonly id = ++batchIds
  readonly topic: string
  readonly partition: number
  readonly records: PendingRecord[]
  readonly bytes: number
  readonly payloadBytes: number
  /** When its first record was appended. */
  readonly createdAt: number
  /** Order of creation within the partition; retries go out in this order. */
  readonly order: number
  /** The orders up to `order + orderSpan` (exclusive) are this batch's: the halves of a split share them. */
  readonly orderSpan: number
  attempts = 0
  nextAttemptAt = 0
  sentAt = 0
  /** Idempotence: assigned on first send, kept across retries (unless renumbered after a gap). */
  producerId = -1n
  producerEpoch = -1
  baseSequence = -1
  /** Some attempt may have been appended (see sequencer.ts). */
  maybeWritten = false
  /** The encoded batch, cached for retries while producer id, epoch and sequence stay the same. */
  encoded: Buffer | null = null
  readonly errors: unknown[] = []

  constructor(
    topic: string,
    partition: number,
    records: PendingRecord[],
    order: number,
    createdAt: number,
    orderSpan = 1,
  ) {
    this.topic = topic
    this.partition = partition
    this.records = records
    this.order = order
    this.orderSpan = orderSpan
    this.createdAt = createdAt
    let bytes = 0
    let payload = 0
    for (const r of records) {
      bytes += r.size
      payload += r.payloadBytes
    }
    this.bytes = bytes
    this.payloadBytes = payload
  }

  get count(): number {
    return this.records.length
  }

  /**
   * Two batches of the first and second half of the records (at least 2), between this batch's
   * neighbours in order, never sent yet (Java's ProducerBatch.split, for MESSAGE_TOO_LARGE).
   * The Sequencer gives them this batch's sequence range.
   */
  split(): [ProducerBatch, ProducerBatch] {
    const half = Math.ceil(this.records.length / 2)
    const span = this.orderSpan / 2
    const make = (records: PendingRecord[], order: number): ProducerBatch =>
      new ProducerBatch(this.topic, this.partition, records, order, this.createdAt, span)
    return [make(this.records.slice(0, half), this.order), make(this.records.slice(half), this.order + span)]
  }
}

export interface BatchLimits {
  batchSize: number
  batchBytes: number
  lingerMs: number
}

/** Everything the Writer tracks for one partition. */
export class PartitionState {
  readonly topic: string
  readonly partition: number
  readonly key: string
  /** Records not yet in a batch. */
  #pending: PendingRecord[] = []
  #pendingHead = 0
  pendingBytes = 0
  /** When the oldest pending record was appended. */
  oldestPendingAt = 0
  /** A synchronous write asked for the pending records to go now, without waiting for the linger. */
  flushRequested = false
  /** In-flight order, retries and sequence numbers of the batches cut so far. */
  readonly seq: Sequencer<ProducerBatch>
  /** A new producer id is being fetched for this partition. */
  renewing = false
  #nextOrder = 0

  constructor(topic: string, partition: number, sequencing: SequencerOptions) {
    this.topic = topic
    this.partition = partition
    this.key = `${topic}\u0000${partition}`
    this.seq = new Sequencer(sequencing)
  }

  get pendingCount(): number {
    return this.#pending.length - this.#pendingHead
  }

  /** No records anywhere: nothing pending, to retry or in flight. */
  get idle(): boolean {
    return this.pendingCount === 0 && this.seq.idle
  }

  append(record: PendingRecord, now: number): void {
    if (this.pendingCount === 0) this.oldestPendingAt = now
    this.#pending.push(record)
    this.pendingBytes += record.size
  }

  /** When the pending records become a batch on their own (linger); Infinity when there are none. */
  lingerDeadline(limits: BatchLimits): number {
    return this.pendingCount === 0 ? Infinity : this.oldestPendingAt + limits.lingerMs
  }

  /**
   * Whether a batch of pending records should be cut now. A full batch goes at once (up to the
   * in-flight cap). A partial one (linger expired, a synchronous write's flush, close) waits while
   * `busy` (the partition's leader is still working on a Produce request of ours): a broker answers
   * one connection's requests in order, and for acks=all only after replication, so a request sent
   * now would wait there anyway. Held back until that answer, it fills up instead of turning many
   * concurrent small writes into as many tiny requests (Nagle's algorithm, for Kafka).
   */
  hasReadyBatch(now: number, limits: BatchLimits, flushAll: boolean, busy: boolean): boolean {
    const count = this.pendingCount
    if (count === 0) return false
    if (count >= limits.batchSize || this.pendingBytes >= limits.batchBytes) return true
    if (busy) return false
    return flushAll || this.flushRequested || now >= this.oldestPendingAt + limits.lingerMs
  }

  /** Cuts the next batch from the pending records: up to batchSize records and batchBytes bytes (at least one). */
  takeBatch(now: number, limits: BatchLimits, batchOverhead: number): ProducerBatch {
    const records: PendingRecord[] = []
    let bytes = batchOverhead
    while (this.#pendingHead < this.#pending.length && records.length < limits.batchSize) {
      const next = this.#pending[this.#pendingHead]!
      if (records.length > 0 && bytes + next.size > limits.batchBytes) break
      records.push(next)
      bytes += next.size
      this.pendingBytes -= next.size
      this.#pending[this.#pendingHead++] = undefined as unknown as PendingRecord
    }
    const createdAt = this.oldestPendingAt
    if (this.#pendingHead === this.#pending.length) {
      this.#pending = []
      this.#pendingHead = 0
      this.flushRequested = false
    } else {
      if (this.#pendingHead > 1024) {
        this.#pending = this.#pending.slice(this.#pendingHead)
        this.#pendingHead = 0
      }
      this.oldestPendingAt = now
    }
    return new ProducerBatch(this.topic, this.partition, records, this.#nextOrder++, createdAt)
  }

  /** Removes and returns every pending record (to fail them). */
  drainPending(): PendingRecord[] {
    const out = this.#pending.slice(this.#pendingHead)
    this.#pending = []
    this.#pendingHead = 0
    this.pendingBytes = 0
    this.flushRequested = false
    return out
  }
}

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (err: Error) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | null
}

/**
 * A budget of bytes. `acquire` takes bytes or waits, first come first served, so a stream of
 * small writes cannot starve a large one; `release` gives bytes back and wakes waiters.
 */
export class ByteBudget {
  readonly capacity: number
  #used = 0
  readonly #waiters: Waiter[] = []

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get used(): number {
    return this.#used
  }

  get waiting(): number {
    return this.#waiters.length
  }

  /** Takes `bytes` at once if there is room and nobody waits; returns false otherwise. */
  tryAcquire(bytes: number): boolean {
    if (this.#waiters.length > 0 || this.#used + bytes > this.capacity) return false
    this.#used += bytes
    return true
  }

  /** Waits until `bytes` fit. `bytes` must not exceed the capacity. */
  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire(bytes)) return Promise.resolve()
    if (signal?.aborted) return Promise.reject(abortErrorFor(signal, 'waiting for buffer space'))
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal, onAbort: null }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter)
          if (i >= 0) this.#waiters.splice(i, 1)
          reject(abortErrorFor(signal, 'waiting for buffer space'))
          this.#wake()
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#waiters.push(waiter)
    })
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes)
    this.#wake()
  }

  /** Fails every waiter (the Writer is closing). */
  rejectAll(error: Error): void {
    const waiters = this.#waiters.splice(0)
    for (const w of waiters) {
      if (w.onAbort !== null) w.signal?.removeEventListener('abort', w.onAbort)
      w.reject(error)
    }
  }

  #wake(): void {
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0]!
      if (this.#used + next.bytes > this.capacity) break
      this.#waiters.shift()
      this.#used += next.bytes
      if (next.onAbort !== null) next.signal?.removeEventListener('abort', next.onAbort)
      next.resolve()
    }
  }
}
