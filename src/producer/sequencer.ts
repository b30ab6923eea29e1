// The one owner of a partition's send order and sequence state (the Java client's
// TxnPartitionEntry + the retry half of Sender, franz-go's recBuf). A pure state machine: no I/O,
// no timers, no clock of its own; the Writer feeds it outcomes and the time, sends what it hands
// out, and reports what it settles.
//
// Rules (idempotent mode):
//  - A batch gets its sequence when first sent and keeps it on every retry; only a gap the broker
//    has proven (or that we made: a numbered batch that ended unwritten) leads to a new epoch.
//  - When one batch must be retried, nothing else of the partition is sent until everything in
//    flight has been answered; then retries go out in their original order.
//  - A batch ends only by success, a non-retriable error or deliveryTimeout; attempts are not
//    counted (Java's delivery.timeout.ms). A batch that ran out of time while one of its attempts
//    may have been written is *unresolved*: it is not sent again and not reported while a later
//    batch of the partition can still prove it written (that batch is accepted) or not (that
//    batch gets OUT_OF_ORDER_SEQUENCE_NUMBER with nothing earlier outstanding).
//  - The bump after a gap is local (KIP-360 for producers without a transactional id): same
//    producer id, epoch + 1, sequence 0, for this partition only. Batches before the gap finish
//    under the old epoch first; only batches after it are renumbered. Kafka and the reference
//    broker both accept a higher epoch at sequence 0 (ProducerAppendInfo.checkSequence).
//  - INVALID_PRODUCER_EPOCH, or an epoch at Short.MAX_VALUE, needs a new producer id (adopt).
//  - A transactional producer never bumps locally: its epoch belongs to the transaction
//    coordinator. A gap sets needsProducerId instead; the Writer makes the transaction abortable
//    and every partition adopts the epoch the coordinator hands out after the abort.
//  - Until one batch is acknowledged under the current producer id and epoch, only one batch is
//    in flight: a broker that does not know the producer accepts any sequence (Kafka 4's
//    ProducerAppendInfo.checkSequence), so a second batch could be appended before a first one
//    that was refused (NOT_ENOUGH_REPLICAS, say) and the retry would land after it.
//  - A batch the broker refused as too large (nothing appended) may be split: its halves take its
//    place in order and its sequence range (Java's ProducerBatch.split), so no other batch is
//    renumbered. One that may have been written by an earlier attempt is never split.
//
// Without idempotence there are no sequences; batches end after maxAttempts or deliveryTimeout.

import { ErrorCode } from '../protocol/error-codes.js'
import { incrementSequence, type ProducerIdentity } from './idempotence.js'

/** The largest producer epoch (Java's Short.MAX_VALUE); a bump beyond it needs a new producer id. */
export const MAX_EPOCH = 0x7fff

/** What one attempt of a batch came to. */
export type Outcome =
  /** Acknowledged (NONE, or DUPLICATE_SEQUENCE_NUMBER from brokers before 2.x: offset -1n). */
  | { kind: 'written'; baseOffset: bigint }
  /** No answer: timed out or the connection failed after the request may have left. */
  | { kind: 'lost' }
  /** A retriable error raised before the leader appended (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, ...). */
  | { kind: 'rejected' }
  /** A retriable error that may come after the leader appended (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND). */
  | { kind: 'maybe-appended' }
  /** OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID. */
  | { kind: 'out-of-order' }
  /** INVALID_PRODUCER_EPOCH: the broker knows a newer epoch of our producer id. */
  | { kind: 'fenced' }
  /** A non-retriable error: the batch was not written. */
  | { kind: 'fatal' }

/** Retriable Produce errors the broker raises before the leader appends anything. */
const REJECTED_BEFORE_APPEND: ReadonlySet<number> = new Set([
  ErrorCode.CORRUPT_MESSAGE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.THROTTLING_QUOTA_EXCEEDED,
])

/**
 * The outcome a Produce partition error code means. Retriable codes not known to come before the
 * append count as possibly appended: wrongly assuming "maybe written" only delays a verdict,
 * wrongly assuming "not written" could renumber a written batch.
 */
export function outcomeOfCode(code: number, retriable: boolean, baseOffset: bigint): Outcome {
  if (code === ErrorCode.NONE) return { kind: 'written', baseOffset }
  if (code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) return { kind: 'written', baseOffset: -1n }
  if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID)
    return { kind: 'out-of-order' }
  if (code === ErrorCode.INVALID_PRODUCER_EPOCH) return { kind: 'fenced' }
  if (!retriable) return { kind: 'fatal' }
  return REJECTED_BEFORE_APPEND.has(code) ? { kind: 'rejected' } : { kind: 'maybe-appended' }
}

/** The fields of a batch the sequencer reads and writes. */
export interface SequencedBatch {
  readonly order: number
  readonly count: number
  readonly createdAt: number
  attempts: number
  nextAttemptAt: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  /** Some attempt may have been appended (sticky). */
  maybeWritten: boolean
  /** Cleared when the batch is (re)numbered: the encoded bytes carry the sequence. */
  encoded: unknown
}

/** How a batch ended. `maybeWritten` on a failure: true when the log may hold it after all. */
export type Settlement<B> =
  | { batch: B; written: true; baseOffset: bigint }
  | { batch: B; written: false; why: 'error' | 'attempts' | 'expired'; maybeWritten: boolean }

export interface SequencerOptions {
  idempotent: boolean
  /** Attempts per batch when not idempotent (ignored otherwise). */
  maxAttempts: number
  /** A batch older than this (ms since createdAt) is not sent again. */
  deliveryTimeout: number
  /** Requests in flight for the partition (at most 5 with idempotence). */
  maxInFlight: number
  /** A transactional producer: no local epoch bumps. */
  transactional?: boolean
}

export class Sequencer<B extends SequencedBatch> {
  readonly #o: SequencerOptions
  /** Sent and not yet answered, in the order sent. */
  readonly inFlight: B[] = []
  /** Waiting to be sent again, by creation order. */
  readonly retries: B[] = []
  /** Out of time with an outcome a later batch may still prove (by creation order). */
  readonly unresolved: B[] = []
  /** Settled batches, for the Writer to report (it empties the array). */
  readonly settled: Settlement<B>[] = []
  /** The broker the in-flight batches went to. */
  broker = -1
  identity: ProducerIdentity | null = null
  nextSequence = 0
  /** Creation order of the first batch known not written (a gap), or Infinity. */
  gapAt = Infinity
  /** A new producer id is needed before anything after the gap is sent. */
  needsProducerId = false
  /** Local epoch bumps so far (for stats). */
  bumps = 0
  /** A batch was acknowledged under the current identity: the broker now checks our sequences. */
  #anchored = false

  constructor(options: SequencerOptions) {
    this.#o = options
  }

  get idle(): boolean {
    return this.inFlight.length === 0 && this.retries.length === 0 && this.unresolved.length === 0
  }

  /** True while a later batch of ours is in flight or waiting, i.e. something still tests earlier sequences. */
  get hasOutstanding(): boolean {
    return this.inFlight.length > 0 || this.retries.length > 0
  }

  /**
   * Whether anything may be sent to `leader` now: answers from the old leader first, every answer
   * before a retry, the in-flight cap, and no renumbering while the old epoch is in flight.
   */
  canSend(leader: number): boolean {
    const n = this.inFlight.length
    if (n === 0) return true
    if (this.broker !== leader || this.retries.length > 0 || n >= this.#o.maxInFlight) return false
    if (this.#o.idempotent && !this.#anchored) return false
    return this.gapAt === Infinity
  }

  /**
   * The retry to send now (a batch), when the first one is due (a number), 'wait' for answers (or
   * a new producer id: needsProducerId), or null when a new batch may be cut. Call after canSend;
   * bumps the epoch once everything before the gap is answered.
   */
  nextRetry(now: number): B | number | 'wait' | null {
    const first = this.retries[0]
    if (first !== undefined && first.order < this.gapAt) {
      return first.nextAttemptAt > now ? first.nextAttemptAt : this.retries.shift()!
    }
    if (this.gapAt !== Infinity) {
      if (this.inFlight.length > 0 || !this.#bump()) return 'wait'
      return this.nextRetry(now)
    }
    return null
  }

  /** Records that `batch` goes to `leader` now, numbering it on its first send. */
  send(batch: B, leader: number): void {
    if (this.#o.idempotent && batch.baseSequence < 0) this.#number(batch)
    batch.attempts++
    this.inFlight.push(batch)
    this.broker = leader
  }

  /** Applies the outcome of the attempt of `batch` that was in flight; `retryAt` is when a retry may go. */
  onOutcome(batch: B, outcome: Outcome, retryAt: number): void {
    const i = this.inFlight.indexOf(batch)
    if (i >= 0) this.inFlight.splice(i, 1)
    const idem = this.#o.idempotent
    switch (outcome.kind) {
      case 'written':
        // Accepted in sequence: every unresolved batch before it was written too.
        while (this.unresolved.length > 0 && this.unresolved[0]!.order < batch.order)
          this.settled.push({ batch: this.unresolved.shift()!, written: true, baseOffset: -1n })
        this.settled.push({ batch, written: true, baseOffset: outcome.baseOffset })
        if (batch.producerId === this.identity?.producerId && batch.producerEpoch === this.identity.producerEpoch)
          this.#anchored = true
        return
      case 'lost':
      case 'maybe-appended':
        batch.maybeWritten = true
        return this.#retry(batch, retryAt)
      case 'rejected':
        return this.#retry(batch, retryAt)
      case 'out-of-order':
        if (!idem) return this.#fail(batch, 'error')
        if (!this.#earlierOutstanding(batch) && this.gapAt === Infinity) {
          // Nothing earlier can still fill the gap: the newest unresolved batch was not written,
          // or (none) the broker lost our state. Either way, renumber from here.
          const last = this.unresolved[this.unresolved.length - 1]
          this.#gap(last !== undefined ? last.order : batch.order)
        }
        return this.#retry(batch, retryAt)
      case 'fenced':
        if (!idem) return this.#fail(batch, 'error')
        this.needsProducerId = true
        this.#gap(batch.order)
        return this.#retry(batch, retryAt)
      case 'fatal':
        if (idem && batch.baseSequence >= 0) this.#gap(batch.order)
        return this.#fail(batch, 'error')
    }
  }

  /**
   * Replaces `batch`, whose attempt in flight was refused before any append (MESSAGE_TOO_LARGE),
   * by `parts`: its records in order, with orders inside its own. They wait as retries due at
   * `retryAt` and take its producer id, epoch and sequence range (when it had one). False, with
   * nothing changed, when an earlier attempt may have been written: splitting could then write
   * records twice.
   */
  split(batch: B, parts: readonly B[], retryAt: number): boolean {
    if (batch.maybeWritten) return false
    const i = this.inFlight.indexOf(batch)
    if (i >= 0) this.inFlight.splice(i, 1)
    let sequence = batch.baseSequence
    for (const part of parts) {
      if (sequence >= 0) {
        part.producerId = batch.producerId
        part.producerEpoch = batch.producerEpoch
        part.baseSequence = sequence
        part.encoded = null
        sequence = incrementSequence(sequence, part.count)
      }
      this.#retry(part, retryAt)
    }
    return true
  }

  /**
   * Ends batches waiting for a retry whose delivery time ran out. One that may have been written
   * becomes unresolved; one known unwritten fails (and leaves a gap if it was numbered).
   */
  expire(now: number): void {
    const overdue = now - this.#o.deliveryTimeout
    for (let i = 0; i < this.retries.length;) {
      const b = this.retries[i]!
      if (b.createdAt >= overdue) {
        i++
        continue
      }
      this.retries.splice(i, 1)
      if (this.#o.idempotent && b.baseSequence >= 0) {
        if (b.maybeWritten && b.order < this.gapAt) {
          this.#addUnresolved(b)
          continue
        }
        this.#gap(b.order)
      }
      this.#fail(b, 'expired')
    }
  }

  /**
   * Settles unresolved batches that nothing can prove any more: nothing of the partition is in
   * flight or waiting, and the Writer has no new records for it. They fail as possibly written.
   */
  settleDangling(): void {
    if (this.hasOutstanding) return
    for (const u of this.unresolved.splice(0))
      this.settled.push({ batch: u, written: false, why: 'expired', maybeWritten: true })
  }

  /** Takes a new producer id (first use, or after needsProducerId), starting every sequence over. */
  adopt(identity: ProducerIdentity): void {
    const first = this.identity === null
    this.identity = identity
    this.needsProducerId = false
    if (!first) this.#restart()
  }

  /** Fails every batch not in flight (the Writer is closing, or no producer id can be had). */
  failWaiting(why: 'error' | 'expired'): void {
    for (const b of this.retries.splice(0)) this.#fail(b, why)
    for (const u of this.unresolved.splice(0))
      this.settled.push({ batch: u, written: false, why: 'expired', maybeWritten: true })
  }

  // --- internals ----------------------------------------------------------------------------------

  #number(batch: B): void {
    const id = this.identity
    if (id === null) throw new Error('kafkats internal: a batch was numbered before the producer id was known')
    batch.producerId = id.producerId
    batch.producerEpoch = id.producerEpoch
    batch.baseSequence = this.nextSequence
    batch.encoded = null
    this.nextSequence = incrementSequence(this.nextSequence, batch.count)
  }

  #retry(batch: B, retryAt: number): void {
    if (!this.#o.idempotent && batch.attempts >= this.#o.maxAttempts) return this.#fail(batch, 'attempts')
    batch.nextAttemptAt = retryAt
    let i = this.retries.length
    while (i > 0 && this.retries[i - 1]!.order > batch.order) i--
    this.retries.splice(i, 0, batch)
  }

  #fail(batch: B, why: 'error' | 'attempts' | 'expired'): void {
    // A batch after a gap was rejected by the broker whatever we saw.
    const maybeWritten = batch.maybeWritten && batch.order < this.gapAt
    this.settled.push({ batch, written: false, why, maybeWritten })
  }

  #addUnresolved(batch: B): void {
    let i = this.unresolved.length
    while (i > 0 && this.unresolved[i - 1]!.order > batch.order) i--
    this.unresolved.splice(i, 0, batch)
  }

  #earlierOutstanding(batch: B): boolean {
    for (const b of this.inFlight) if (b.order < batch.order) return true
    for (const b of this.retries) if (b.order < batch.order) return true
    return false
  }

  #gap(order: number): void {
    if (order < this.gapAt) this.gapAt = order
  }

  /** The local bump; false when a new producer id is needed first. */
  #bump(): boolean {
    const id = this.identity
    if (this.needsProducerId || id === null || id.producerEpoch >= MAX_EPOCH || this.#o.transactional === true) {
      this.needsProducerId = true
      return false
    }
    this.identity = { producerId: id.producerId, producerEpoch: id.producerEpoch + 1 }
    this.bumps++
    this.#restart()
    return true
  }

  /** Sequence 0 under the current identity: unresolved batches can no longer be proven, retries are renumbered. */
  #restart(): void {
    const gapAt = this.gapAt
    for (const u of this.unresolved.splice(0))
      this.settled.push({ batch: u, written: false, why: 'expired', maybeWritten: u.order < gapAt })
    this.gapAt = Infinity
    this.nextSequence = 0
    this.#anchored = false
    for (const b of this.retries) this.#number(b)
  }
}
