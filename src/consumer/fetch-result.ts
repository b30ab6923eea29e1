// One partition of a Fetch response → the messages a Reader hands out, following the Java
// consumer's CompletedFetch: records below the fetch offset are skipped (a batch may start before
// it), control batches are never returned but advance the position, and under read_committed
// the batches of aborted transactions are dropped using the response's AbortedTransactions list
// together with the ABORT markers in the log. A trailing partial batch (the broker cuts the
// response at max bytes) is ignored and the position stays before it.

import type { Message } from '../message.js'
import {
  RECORD_BATCH_OVERHEAD,
  decodeControlRecord,
  decodeRecordBatch,
  readBatchHeader,
  type DecodeOptions,
  type RecordBatch,
  type RecordBatchHeader,
} from '../protocol/record-batch.js'

export type IsolationLevel = 'read_committed' | 'read_uncommitted'

export interface FetchedHeader {
  key: string
  value: Buffer | null
}

/** A message read from Kafka: every field of `Message` is set. */
export interface FetchedMessage extends Message {
  topic: string
  partition: number
  offset: bigint
  key: Buffer | null
  value: Buffer | null
  headers: FetchedHeader[]
  /** Milliseconds since the epoch (CreateTime, or LogAppendTime when the topic uses it); -1 if none. */
  timestamp: number
  /**
   * The leader epoch the record was written in (its batch's partitionLeaderEpoch), -1 if the
   * batch has none. Commits carry it (committedLeaderEpoch), so a Reader starting from the
   * committed offset can check that the log was not truncated below it (KIP-320).
   */
  leaderEpoch: number
  /**
   * Group mode: which assignment of the partition to this member the message was fetched under
   * (an id that changes whenever the partition is assigned to the member anew); 0 in direct
   * mode. commitMessages refuses messages of an assignment that was revoked or lost since, even
   * if the partition was assigned back (it restarted from the committed offset, so they are
   * delivered again). Keep it when copying a message to commit (`{ ...message }` does).
   */
  assignment: number
}

/** The parts of a FetchResponse partition this needs (FetchResponsePartitionData fits). */
export interface FetchPartitionData {
  records: Buffer | null
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[] | null
  highWatermark: bigint
  lastStableOffset: bigint
}

export interface RecordsToMessagesOptions extends DecodeOptions {
  /**
   * Copy keys, values and header values out of the response (default false: they are views into
   * the response buffer, or into a batch's decompressed buffer, which they keep alive).
   */
  copy?: boolean
}

export interface FetchResult {
  messages: FetchedMessage[]
  /**
   * Where the next fetch starts: one past the last message, or past the last complete batch when
   * that batch ended in control records, aborted data or records compacted away. Never below
   * `fetchOffset`; equal to it when nothing complete was returned.
   */
  nextOffset: bigint
  /** Payload bytes of `messages`: keys, values, header keys and header values. */
  bytes: number
  /** partitionLeaderEpoch of the last batch read (for OffsetCommit / truncation checks); null if unknown. */
  lastEpoch: number | null
}

/** NO_PARTITION_LEADER_EPOCH */
const NO_EPOCH = -1
/** NO_PRODUCER_ID */
const NO_PRODUCER_ID = -1n

/**
 * Decodes one partition's records into messages from `fetchOffset` on.
 *
 * Errors: a corrupt or undecodable batch throws (CorruptRecordError / ProtocolDecodeError) when
 * nothing before it could be consumed; otherwise the result stops before that batch, so the next
 * fetch starts at it and reports the error then (what Java's consumer does).
 */
export async function recordsToMessages(
  topic: string,
  partition: number,
  data: FetchPartitionData,
  fetchOffset: bigint,
  isolation: IsolationLevel,
  options: RecordsToMessagesOptions = {},
): Promise<FetchResult> {
  const messages: FetchedMessage[] = []
  const result: FetchResult = { messages, nextOffset: fetchOffset, bytes: 0, lastEpoch: null }
  const records = data.records
  if (records === null || records.length === 0) return result

  const copy = options.copy === true
  const decodeOptions: DecodeOptions = {}
  if (options.verifyCrc !== undefined) decodeOptions.verifyCrc = options.verifyCrc
  if (options.maxDecompressedBytes !== undefined) decodeOptions.maxDecompressedBytes = options.maxDecompressedBytes

  // read_committed: the aborted transactions by first offset, and the producers whose data is
  // being dropped (from the first offset of their aborted transaction to its ABORT marker).
  const readCommitted = isolation === 'read_committed'
  const aborted =
    readCommitted && data.abortedTransactions !== null && data.abortedTransactions.length > 0
      ? [...data.abortedTransactions].sort((a, b) =>
          a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
        )
      : []
  let nextAborted = 0
  const abortedProducers = new Set<bigint>()

  let nextOffset = fetchOffset
  let at = 0
  while (records.length - at >= RECORD_BATCH_OVERHEAD) {
    let header: RecordBatchHeader
    let batch: RecordBatch | null = null
    try {
      header = readBatchHeader(records, at)
      if (header.size > records.length - at) break // partial batch at the end
      const raw = records.subarray(at, at + header.size)
      const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta)
      const batchNextOffset = lastOffset + 1n

      if (readCommitted && header.producerId > NO_PRODUCER_ID) {
        // Aborted transactions that began before this batch ends: their producers' data is dropped.
        while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= lastOffset) {
          abortedProducers.add(aborted[nextAborted++]!.producerId)
        }
        if (header.isControl) {
          batch = await decodeRecordBatch(raw, decodeOptions)
          const first = batch.records[0]
          // The ABORT marker ends the producer's aborted transaction.
          if (first !== undefined && decodeControlRecord(first).type === 'abort')
            abortedProducers.delete(header.producerId)
        } else if (header.isTransactional && abortedProducers.has(header.producerId)) {
          result.lastEpoch = epoch(header)
          if (batchNextOffset > nextOffset) nextOffset = batchNextOffset
          result.nextOffset = nextOffset
          at += header.size
          continue
        }
      }

      result.lastEpoch = epoch(header)
      if (batchNextOffset <= nextOffset) {
        // Entirely before the position (the broker returns whole batches): nothing to read.
        at += header.size
        continue
      }
      batch ??= await decodeRecordBatch(raw, decodeOptions)
    } catch (err) {
      if (messages.length > 0 || nextOffset > fetchOffset) break
      throw err
    }

    for (const record of batch.records) {
      if (record.offset < nextOffset) continue
      nextOffset = record.offset + 1n
      if (batch.isControl) continue // control records are never returned
      const key = copy && record.key !== null ? Buffer.from(record.key) : record.key
      const value = copy && record.value !== null ? Buffer.from(record.value) : record.value
      let size = (key?.length ?? 0) + (value?.length ?? 0)
      const headers: FetchedHeader[] = record.headers
      if (headers.length > 0) {
        for (let i = 0; i < headers.length; i++) {
          const h = headers[i]!
          if (copy && h.value !== null) headers[i] = { key: h.key, value: Buffer.from(h.value) }
          size += Buffer.byteLength(h.key, 'utf8') + (h.value?.length ?? 0)
        }
      }
      result.bytes += size
      messages.push({
        topic,
        partition,
        offset: record.offset,
        key,
        value,
        headers,
        timestamp: Number(record.timestamp),
        leaderEpoch: header.partitionLeaderEpoch,
        assignment: 0,
      })
    }
    // v2 batches keep their last offset even when compaction removed the last records: continue
    // after the batch, not after its last record, so the same batch is not fetched again.
    const batchNextOffset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n
    if (batchNextOffset > nextOffset) nextOffset = batchNextOffset
    result.nextOffset = nextOffset
    at += header.size
  }
  result.nextOffset = nextOffset
  return result
}

function epoch(header: RecordBatchHeader): number | null {
  return header.partitionLeaderEpoch === NO_EPOCH ? null : header.partitionLeaderEpoch
}
