// Idempotent produce (KIP-98, with KIP-360 epoch bumps). The broker keeps, per producer id and
// partition, the sequence numbers of the last five batches; a batch sent again after a lost
// response carries the same (producer id, epoch, sequence) and is answered as a duplicate instead
// of appended twice. This module owns the producer id and epoch; the Writer numbers batches.
//
// Rules the Writer follows with it:
//  - A batch gets its sequence when first sent and keeps it on every retry.
//  - At most five batches per partition are in flight; when one must be retried, nothing else of
//    that partition is sent until everything in flight has been answered, then the retries go out
//    in their original order, so the broker sees sequences in order.
//  - OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID with no earlier batch unanswered (an
//    unanswered one explains the gap: it is resent first), and INVALID_PRODUCER_EPOCH, mean the
//    broker's state for us is gone or ahead: bump the epoch
//    (InitProducerId with our current id and epoch, KIP-360) and renumber that partition's
//    unacknowledged batches from 0. Other partitions keep their old (id, epoch, sequence) for
//    batches already numbered, so a retry of a batch whose response was lost is still
//    recognised as a duplicate; they move to the new epoch once those are answered.
//  - DUPLICATE_SEQUENCE_NUMBER is success.

import { KafkaError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'

const INT32_MAX = 0x7fffffff

/** The sequence after `sequence` plus `count` records; wraps to 0 after int32 max (Java's DefaultRecordBatch.incrementSequence). */
export function incrementSequence(sequence: number, count: number): number {
  if (sequence > INT32_MAX - count) return count - (INT32_MAX - sequence) - 1
  return sequence + count
}

export interface ProducerIdentity {
  producerId: bigint
  producerEpoch: number
}

/**
 * Obtains a producer id and epoch: `current` null for a new one, or the current pair to bump the
 * epoch (KIP-360). Throws on failure; the manager retries through its policy.
 */
export type InitProducerIdFn = (current: ProducerIdentity | null) => Promise<ProducerIdentity>

/** Produce error codes that call for an epoch bump (given no earlier batch is unanswered, for OUT_OF_ORDER). */
export const EPOCH_BUMP_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  ErrorCode.UNKNOWN_PRODUCER_ID,
  ErrorCode.INVALID_PRODUCER_EPOCH,
])

export class ProducerIdManager {
  readonly #init: InitProducerIdFn
  #identity: ProducerIdentity | null = null
  /** Increments on every new id or epoch: batches numbered under an older generation are "old". */
  #generation = 0
  #pending: Promise<void> | null = null
  /** Generations that already asked for a bump (one bump per generation, however many partitions ask). */
  #bumpedFrom = -1
  /** How many bumps were made (for tests and stats). */
  bumps = 0

  constructor(init: InitProducerIdFn) {
    this.#init = init
  }

  get identity(): ProducerIdentity | null {
    return this.#identity
  }

  get generation(): number {
    return this.#generation
  }

  /** True while InitProducerId runs: the Writer sends nothing idempotent meanwhile. */
  get busy(): boolean {
    return this.#pending !== null
  }

  get ready(): boolean {
    return this.#identity !== null && this.#pending === null
  }

  /** Gets a producer id if there is none (shared by concurrent callers). */
  ensure(): Promise<void> {
    if (this.#pending !== null) return this.#pending
    if (this.#identity !== null) return Promise.resolve()
    return this.#run(null)
  }

  /**
   * Bumps the epoch once for `generation` (the generation of the batch that saw the error); a
   * request from an older generation is already covered by the bump that made the current one.
   */
  requestBump(generation: number): Promise<void> {
    if (this.#pending !== null) return this.#pending
    if (generation !== this.#generation || this.#bumpedFrom === generation) return Promise.resolve()
    this.#bumpedFrom = generation
    this.bumps++
    return this.#run(this.#identity)
  }

  /** Forgets the producer id after a fatal failure, so the next write starts over. */
  reset(): void {
    this.#identity = null
    this.#generation++
  }

  #run(current: ProducerIdentity | null): Promise<void> {
    const pending = this.#init(current).then(
      (identity) => {
        this.#identity = identity
        this.#generation++
        this.#pending = null
      },
      (err: unknown) => {
        this.#pending = null
        // A failed bump leaves the old identity unusable for the partitions that need it, so
        // start over with a fresh id next time.
        if (current !== null) this.reset()
        throw err
      },
    )
    this.#pending = pending
    return pending
  }
}

/** The KafkaError of an InitProducerId response's error code (null when it succeeded). */
export function initProducerIdError(errorCode: number): KafkaError | null {
  return errorCode === ErrorCode.NONE ? null : KafkaError.fromCode(errorCode, { apiName: 'InitProducerId' })
}
