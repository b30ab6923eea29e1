// Acknowledgements of records a share group delivered (KIP-932): which offsets of a partition the
// application accepted, released or rejected, held until they are sent, and turned into the
// AcknowledgementBatches of ShareFetch and ShareAcknowledge. A batch is a run of consecutive
// offsets with one type each; runs of one type are sent as a single-element acknowledgeTypes
// array, which Kafka applies to the whole range (ShareFetchRequest.json).

import { KafkaTsError } from '../errors.js'

/** What the application did with a delivered record. */
export type AcknowledgeType = 'accept' | 'release' | 'reject'

/** Kafka's AcknowledgeType ids; 0 (GAP) marks offsets with no record (control records). */
export const ACK_TYPE_ID = { gap: 0, accept: 1, release: 2, reject: 3 } as const

export type AckTypeId = (typeof ACK_TYPE_ID)[keyof typeof ACK_TYPE_ID]

export interface AcknowledgementBatch {
  firstOffset: bigint
  lastOffset: bigint
  acknowledgeTypes: number[]
}

/** `acknowledge()` was given something that is not a record this reader delivered and holds. */
export class ShareAcknowledgeError extends KafkaTsError {
  constructor(message: string) {
    super('KAFKATS_SHARE_ACKNOWLEDGE', message)
  }
}

export function ackTypeId(type: unknown): AckTypeId {
  if (type === 'accept' || type === 'release' || type === 'reject') return ACK_TYPE_ID[type]
  throw new ShareAcknowledgeError(`acknowledge type must be 'accept', 'release' or 'reject', got ${String(type)}`)
}

/** Pending acknowledgements of one partition, by offset. */
export class PartitionAcks {
  readonly #byOffset = new Map<bigint, AckTypeId>()

  get size(): number {
    return this.#byOffset.size
  }

  add(offset: bigint, type: AckTypeId): void {
    this.#byOffset.set(offset, type)
  }

  /** Everything pending as batches (ascending, consecutive offsets of one type per batch); empties this. */
  drain(): AcknowledgementBatch[] {
    const offsets = [...this.#byOffset.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const out: AcknowledgementBatch[] = []
    let current: AcknowledgementBatch | null = null
    for (const offset of offsets) {
      const type = this.#byOffset.get(offset)!
      if (current !== null && current.lastOffset + 1n === offset && current.acknowledgeTypes[0] === type) {
        current.lastOffset = offset
      } else {
        current = { firstOffset: offset, lastOffset: offset, acknowledgeTypes: [type] }
        out.push(current)
      }
    }
    this.#byOffset.clear()
    return out
  }
}

/** How many offsets a list of batches covers. */
export function offsetsIn(batches: readonly AcknowledgementBatch[]): number {
  let n = 0
  for (const b of batches) n += Number(b.lastOffset - b.firstOffset) + 1
  return n
}
