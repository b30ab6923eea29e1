// Per-partition producer state, after Kafka's ProducerStateManager / ProducerAppendInfo
// (storage/.../log/ProducerAppendInfo.java, ProducerStateEntry.java):
//
// - For each producer id the partition keeps its epoch and the metadata of its last 5 batches
//   (first/last sequence, first/last offset). A batch whose epoch and exact sequence range match
//   one of them is a duplicate: it is not appended again and the ORIGINAL offsets are returned.
// - A batch with an epoch older than the producer's → INVALID_PRODUCER_EPOCH (Kafka 2.7+ sends
//   this instead of PRODUCER_FENCED on produce, KIP-588).
// - Same epoch: the first sequence must be lastSeq + 1 (with wrap at Int32.MAX) or it is
//   OUT_OF_ORDER_SEQUENCE_NUMBER. New epoch: the first sequence must be 0.
// - A producer the partition has no state for is accepted at ANY sequence. Kafka 4 does this
//   (checkSequence: "If there is no current producer epoch ... accept writes with any sequence
//   number"); UNKNOWN_PRODUCER_ID is no longer sent by the broker since KIP-360.
// - Transactions: the first transactional batch of a producer starts an ongoing transaction at
//   its offset (which bounds the last stable offset); a marker ends it, and an abort is
//   recorded in the aborted-transactions index that read_committed fetches return.

import { ErrorCode } from '../protocol/error-codes.js'
import type { RecordBatchHeader } from '../protocol/record-batch.js'

/** How many batches per producer Kafka remembers for duplicate detection (NUM_BATCHES_TO_RETAIN). */
export const BATCHES_TO_RETAIN = 5

export interface BatchMetadata {
  firstSeq: number
  lastSeq: number
  firstOffset: number
  lastOffset: number
  timestamp: number
}

export interface ProducerEntry {
  producerId: bigint
  epoch: number
  batches: BatchMetadata[]
  /** First offset of the ongoing transaction on this partition, or -1. */
  currentTxnFirstOffset: number
  coordinatorEpoch: number
  lastTimestamp: number
}

export interface AbortedTxn {
  producerId: bigint
  firstOffset: number
  /** Offset of the abort marker. */
  lastOffset: number
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: number; message: string }

const INT32_MAX = 0x7fffffff

/** The sequence of the last record of a batch (DefaultRecordBatch.incrementSequence). */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1
  return baseSequence + lastOffsetDelta
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX)
}

export class PartitionProducers {
  readonly entries = new Map<bigint, ProducerEntry>()
  /** Aborted transactions in marker order (Kafka's transaction index). */
  readonly aborted: AbortedTxn[] = []
  /**
   * Completed transactions whose marker the high watermark has not passed yet (Kafka's
   * unreplicatedTxns): still unstable, so their data never shows below the LSO before the marker
   * that says whether it counts is replicated.
   */
  readonly #unreplicated: { producerId: bigint; firstOffset: number; markerOffset: number }[] = []

  /** Validates a data batch from a client before it is appended. */
  check(h: RecordBatchHeader): SequenceCheck {
    if (h.producerId < 0n) return { kind: 'append' }
    const entry = this.entries.get(h.producerId)
    const firstSeq = h.baseSequence
    const lastSeq = lastSequence(firstSeq, h.lastOffsetDelta)
    if (entry !== undefined) {
      if (h.producerEpoch === entry.epoch) {
        const dup = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq)
        if (dup !== undefined) return { kind: 'duplicate', batch: dup }
      }
      if (h.producerEpoch < entry.epoch) {
        return {
          kind: 'error',
          errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
          message: `Epoch of producer ${h.producerId} is ${h.producerEpoch}, which is smaller than the last seen epoch ${entry.epoch}`,
        }
      }
    }
    if (entry === undefined || entry.epoch < 0) return { kind: 'append' }
    if (h.producerEpoch !== entry.epoch) {
      if (firstSeq !== 0) {
        return {
          kind: 'error',
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `Invalid sequence number for new epoch of producer ${h.producerId}: ${h.producerEpoch} (request epoch), ${firstSeq} (seq. number), ${entry.epoch} (current producer epoch)`,
        }
      }
      return { kind: 'append' }
    }
    // An entry without batches (its epoch was set by a marker) expects sequence 0, as in Kafka
    // where an empty entry's lastSeq is NO_SEQUENCE (-1).
    const lastSeqSoFar = entry.batches[entry.batches.length - 1]?.lastSeq ?? -1
    if (!inSequence(lastSeqSoFar, firstSeq)) {
      return {
        kind: 'error',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Out of order sequence number for producer ${h.producerId}: ${firstSeq} (incoming seq. number), ${lastSeqSoFar} (current end sequence number)`,
      }
    }
    return { kind: 'append' }
  }

  /**
   * A transactional data batch from a producer with an ongoing transaction must be transactional
   * and vice versa (INVALID_TXN_STATE), as ProducerAppendInfo.appendDataBatch checks.
   */
  checkTxnState(h: RecordBatchHeader): { errorCode: number; message: string } | undefined {
    if (h.producerId < 0n) return undefined
    const entry = this.entries.get(h.producerId)
    if (
      entry !== undefined &&
      entry.currentTxnFirstOffset >= 0 &&
      !h.isTransactional &&
      h.producerEpoch === entry.epoch
    ) {
      return {
        errorCode: ErrorCode.INVALID_TXN_STATE,
        message: `Expected transactional write from producer ${h.producerId}`,
      }
    }
    return undefined
  }

  /** Records a data batch that was appended at [firstOffset, lastOffset]. */
  onAppend(h: RecordBatchHeader, firstOffset: number, lastOffset: number, timestamp: number): void {
    if (h.producerId < 0n) return
    let entry = this.entries.get(h.producerId)
    if (entry === undefined || entry.epoch !== h.producerEpoch) {
      const prev = entry
      entry = {
        producerId: h.producerId,
        epoch: h.producerEpoch,
        batches: [],
        currentTxnFirstOffset: prev?.currentTxnFirstOffset ?? -1,
        coordinatorEpoch: prev?.coordinatorEpoch ?? -1,
        lastTimestamp: timestamp,
      }
      this.entries.set(h.producerId, entry)
    }
    entry.batches.push({
      firstSeq: h.baseSequence,
      lastSeq: lastSequence(h.baseSequence, h.lastOffsetDelta),
      firstOffset,
      lastOffset,
      timestamp,
    })
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift()
    entry.lastTimestamp = timestamp
    if (h.isTransactional && entry.currentTxnFirstOffset < 0) entry.currentTxnFirstOffset = firstOffset
  }

  /** A producer epoch the partition must refuse older data from (a marker or InitProducerId bump). */
  checkMarkerEpoch(producerId: bigint, epoch: number): boolean {
    const entry = this.entries.get(producerId)
    return entry === undefined || epoch >= entry.epoch
  }

  /** Records a transaction marker written at `offset`. */
  onMarker(
    producerId: bigint,
    epoch: number,
    commit: boolean,
    offset: number,
    coordinatorEpoch: number,
    timestamp: number,
  ): void {
    let entry = this.entries.get(producerId)
    if (entry === undefined) {
      entry = { producerId, epoch, batches: [], currentTxnFirstOffset: -1, coordinatorEpoch, lastTimestamp: timestamp }
      this.entries.set(producerId, entry)
    }
    if (entry.currentTxnFirstOffset >= 0 && !commit) {
      this.aborted.push({ producerId, firstOffset: entry.currentTxnFirstOffset, lastOffset: offset })
    }
    if (entry.currentTxnFirstOffset >= 0)
      this.#unreplicated.push({ producerId, firstOffset: entry.currentTxnFirstOffset, markerOffset: offset })
    entry.currentTxnFirstOffset = -1
    if (epoch !== entry.epoch) {
      // A marker with a bumped epoch (abort on InitProducerId / timeout) resets the sequence state.
      entry.epoch = epoch
      entry.batches = []
    }
    entry.coordinatorEpoch = coordinatorEpoch
    entry.lastTimestamp = timestamp
  }

  /**
   * The first offset of the oldest transaction that is ongoing, or completed with its marker not
   * yet below `highWatermark` (bounds the last stable offset, as Kafka's firstUnstableOffset).
   */
  firstUnstableOffset(highWatermark: number): number | undefined {
    // Markers the high watermark passed are stable for good (it never moves back under a leader).
    for (let i = this.#unreplicated.length - 1; i >= 0; i--)
      if (this.#unreplicated[i]!.markerOffset < highWatermark) this.#unreplicated.splice(i, 1)
    let min: number | undefined
    for (const t of this.#unreplicated) if (min === undefined || t.firstOffset < min) min = t.firstOffset
    for (const e of this.entries.values()) {
      if (e.currentTxnFirstOffset >= 0 && (min === undefined || e.currentTxnFirstOffset < min))
        min = e.currentTxnFirstOffset
    }
    return min
  }

  /** Producers with an ongoing transaction here. */
  ongoing(): ProducerEntry[] {
    return [...this.entries.values()].filter((e) => e.currentTxnFirstOffset >= 0)
  }

  /** Aborted transactions that overlap [from, to) (Kafka's collectAbortedTxns for a fetch). */
  abortedBetween(from: number, to: number): AbortedTxn[] {
    return this.aborted.filter((a) => a.lastOffset >= from && a.firstOffset < to)
  }

  /** Forgets state below the log start offset (retention / DeleteRecords / truncation). */
  truncateTo(endOffset: number): void {
    for (const [pid, e] of this.entries) {
      e.batches = e.batches.filter((b) => b.lastOffset < endOffset)
      if (e.currentTxnFirstOffset >= endOffset) e.currentTxnFirstOffset = -1
      if (e.batches.length === 0 && e.currentTxnFirstOffset < 0 && e.epoch < 0) this.entries.delete(pid)
    }
    for (let i = this.aborted.length - 1; i >= 0; i--)
      if (this.aborted[i]!.lastOffset >= endOffset) this.aborted.splice(i, 1)
    for (let i = this.#unreplicated.length - 1; i >= 0; i--) {
      const t = this.#unreplicated[i]!
      if (t.markerOffset < endOffset) continue
      this.#unreplicated.splice(i, 1)
      // The marker is gone but data of the transaction is not: it is ongoing again, as Kafka's
      // producer state rebuilt from the truncated log says.
      const entry = this.entries.get(t.producerId)
      if (entry !== undefined && t.firstOffset < endOffset && entry.currentTxnFirstOffset < 0)
        entry.currentTxnFirstOffset = t.firstOffset
    }
  }

  removeBefore(logStartOffset: number): void {
    for (let i = this.aborted.length - 1; i >= 0; i--)
      if (this.aborted[i]!.lastOffset < logStartOffset) this.aborted.splice(i, 1)
  }
}
