// Idempotent produce (KIP-98, with KIP-360 epoch bumps). The broker keeps, per producer id and
// partition, the sequence numbers of the last five batches; a batch sent again after a lost
// response carries the same (producer id, epoch, sequence) and is answered with its original
// offset instead of being appended twice. This module obtains producer ids (InitProducerId); each
// partition's sequences, retries and epoch bumps belong to its Sequencer (sequencer.ts, rules at
// its top).

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
 * Obtains a new producer id (InitProducerId without a transactional id: Kafka always hands out a
 * new id at epoch 0). Throws on failure; it is the retry owner of its request.
 */
export type InitProducerIdFn = (current: null) => Promise<ProducerIdentity>

export class ProducerIdManager {
  readonly #init: InitProducerIdFn
  #identity: ProducerIdentity | null = null
  #pending: Promise<ProducerIdentity> | null = null

  constructor(init: InitProducerIdFn) {
    this.#init = init
  }

  /** The newest producer id (partitions that bumped locally carry their own epoch). */
  get identity(): ProducerIdentity | null {
    return this.#identity
  }

  /** A transactional Writer's id and epoch, set by its transaction manager at transaction boundaries. */
  replace(identity: ProducerIdentity): void {
    this.#identity = identity
  }

  /** True while InitProducerId runs. */
  get busy(): boolean {
    return this.#pending !== null
  }

  /** The producer id, obtained on first use (shared by concurrent callers). */
  ensure(): Promise<ProducerIdentity> {
    if (this.#pending !== null) return this.#pending
    if (this.#identity !== null) return Promise.resolve(this.#identity)
    return this.#run()
  }

  /**
   * A producer id other than `stale` (a partition was fenced, or its epoch ran out). One request
   * serves every partition that asks about the same stale id.
   */
  renew(stale: bigint): Promise<ProducerIdentity> {
    if (this.#pending !== null) return this.#pending
    if (this.#identity !== null && this.#identity.producerId !== stale) return Promise.resolve(this.#identity)
    return this.#run()
  }

  #run(): Promise<ProducerIdentity> {
    const pending = this.#init(null).then(
      (identity) => {
        this.#identity = identity
        this.#pending = null
        return identity
      },
      (err: unknown) => {
        this.#pending = null
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
