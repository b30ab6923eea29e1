// The partition's producer state as Kafka's ProducerStateManager keeps it: a completed transaction
// stays unstable until the high watermark passes its marker (unreplicatedTxns), so the last stable
// offset never exposes a transaction's data before its marker is replicated. Without this, a
// reference leader with a lagging follower would let read_committed readers see data that Kafka
// keeps behind the LSO.

import { describe, expect, it } from 'vitest'
import { PartitionProducers } from '../../src/broker/producers.js'
import type { RecordBatchHeader } from '../../src/protocol/record-batch.js'

function txnBatch(producerId: bigint, records: number): RecordBatchHeader {
  return {
    producerId,
    producerEpoch: 0,
    baseSequence: 0,
    lastOffsetDelta: records - 1,
    isTransactional: true,
  } as unknown as RecordBatchHeader
}

describe('PartitionProducers: the first unstable offset', () => {
  it('an ongoing transaction is unstable from its first offset', () => {
    const p = new PartitionProducers()
    p.onAppend(txnBatch(7n, 2), 0, 1, 1000)
    expect(p.firstUnstableOffset(2)).toBe(0)
  })

  it('a committed transaction stays unstable until the high watermark passes its marker', () => {
    const p = new PartitionProducers()
    p.onAppend(txnBatch(7n, 2), 0, 1, 1000)
    p.onMarker(7n, 0, true, 2, 0, 1001)
    // The data (0-1) is replicated, the marker (2) is not: Kafka's LSO stays at 0.
    expect(p.firstUnstableOffset(2)).toBe(0)
    // The marker is replicated: the transaction is stable.
    expect(p.firstUnstableOffset(3)).toBeUndefined()
    // And stays so (the high watermark never moves back under a live leader).
    expect(p.firstUnstableOffset(3)).toBeUndefined()
  })

  it('an aborted transaction too; its entry in the aborted list is kept either way', () => {
    const p = new PartitionProducers()
    p.onAppend(txnBatch(7n, 3), 10, 12, 1000)
    p.onMarker(7n, 0, false, 13, 0, 1001)
    expect(p.firstUnstableOffset(13)).toBe(10)
    expect(p.firstUnstableOffset(14)).toBeUndefined()
    expect(p.abortedBetween(0, 20)).toEqual([{ producerId: 7n, firstOffset: 10, lastOffset: 13 }])
  })

  it('a truncation that removes the marker but not the data leaves the transaction ongoing again', () => {
    const p = new PartitionProducers()
    p.onAppend(txnBatch(7n, 2), 0, 1, 1000)
    p.onMarker(7n, 0, true, 2, 0, 1001)
    p.truncateTo(2)
    expect(p.firstUnstableOffset(2)).toBe(0)
    expect(p.ongoing().map((e) => e.producerId)).toEqual([7n])
  })

  it('a truncation below the whole transaction forgets it', () => {
    const p = new PartitionProducers()
    p.onAppend(txnBatch(7n, 2), 0, 1, 1000)
    p.onMarker(7n, 0, true, 2, 0, 1001)
    p.truncateTo(0)
    expect(p.firstUnstableOffset(0)).toBeUndefined()
  })
})
