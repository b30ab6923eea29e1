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
  decodeRecordBatchWith,
  readBatchHeader,
  type DecodeOptions,
  type RecordBatch,
  type RecordBatchHeader,
  type RecordHeader,
  type RecordMaker,
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
  /**
   * Set when the log right after this message holds only control records or data a reader never
   * gets (aborted transactions, records compacted away): the offset past them, which a commit of
   * this message records instead of offset + 1. So a read_committed group can commit past a
   * transaction's final marker (librdkafka issue 3400) and never past data it has not read.
   */
  nextOffset?: bigint
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
  /**
   * Stop before the message that would take `memory` past this many bytes (the prefetch queue's
   * room); at least one message is returned when it is above 0. The result's nextOffset is then
   * just past the last message, so the next fetch resumes there.
   */
  maxMemory?: number
}

// What a decoded message costs on the heap while it waits in the queue, measured on Node 20 with
// bench/reader-memory.ts (live heap plus Buffer memory per message, after GC, payloads copied):
// 161 B with no key and a null value, 273 B with a 10-byte value, 384 B with a 10-byte key and
// value, 888 B with two 10-byte headers more, 1295 B with a 1000-byte value. So: a message object
// (with its offset bigint and headers array), plus a Buffer object per key/value, plus per header
// an object, its key string and its value's Buffer.
export const MESSAGE_OVERHEAD = 160
export const BUFFER_OVERHEAD = 100
export const HEADER_OVERHEAD = 150

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
  /** What `messages` cost in memory (see MESSAGE_OVERHEAD): what the prefetch queue charges. */
  memory: number
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
  const result: FetchResult = { messages, nextOffset: fetchOffset, bytes: 0, memory: 0, lastEpoch: null }
  const records = data.records
  if (records === null || records.length === 0) return result

  const maxMemory = options.maxMemory ?? Infinity
  const decodeOptions: DecodeOptions = { copy: options.copy === true }
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

  // Records are decoded straight into the messages handed out (see RecordMaker).
  const make = messageMaker(topic, partition)
  let nextOffset = fetchOffset
  let at = 0
  while (records.length - at >= RECORD_BATCH_OVERHEAD) {
    let header: RecordBatchHeader
    let batch: RecordBatch | null = null // a control batch
    let data: (RecordBatchHeader & { records: FetchedMessage[] }) | null = null
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
      if (header.isControl) batch ??= await decodeRecordBatch(raw, decodeOptions)
      else data = await decodeRecordBatchWith(raw, decodeOptions, make)
    } catch (err) {
      if (messages.length > 0 || nextOffset > fetchOffset) break
      throw err
    }

    if (data === null) {
      // Control records are never returned; they advance the position.
      for (const record of batch!.records) if (record.offset >= nextOffset) nextOffset = record.offset + 1n
    } else {
      for (const message of data.records) {
        if (message.offset < nextOffset) continue
        const cost = memoryOf(message)
        // Over budget: stop here; the next fetch starts at this record.
        if (result.memory + cost > maxMemory && (messages.length > 0 || maxMemory <= 0)) {
          result.nextOffset = nextOffset
          skipGaps(messages, nextOffset)
          return result
        }
        result.memory += cost
        nextOffset = message.offset + 1n
        const { key, value, headers } = message
        let size = (key?.length ?? 0) + (value?.length ?? 0)
        for (const h of headers) size += Buffer.byteLength(h.key, 'utf8') + (h.value?.length ?? 0)
        result.bytes += size
        messages.push(message)
      }
    }
    // v2 batches keep their last offset even when compaction removed the last records: continue
    // after the batch, not after its last record, so the same batch is not fetched again.
    const batchNextOffset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n
    if (batchNextOffset > nextOffset) nextOffset = batchNextOffset
    result.nextOffset = nextOffset
    at += header.size
  }
  result.nextOffset = nextOffset
  skipGaps(messages, nextOffset)
  return result
}

/**
 * Everything between two messages of one response, and after the last one up to `end`, is
 * something the application never gets: a commit of the message before such a gap covers it.
 */
function skipGaps(messages: FetchedMessage[], end: bigint): void {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    const next = messages[i + 1]?.offset ?? end
    if (next > m.offset + 1n) m.nextOffset = next
  }
}

/** A decoded record's cost in memory as a queued message (constants above). */
/**
 * Builds the messages of one partition straight from the decoded fields. The timestamp is
 * added as a number (exact while the batch's base timestamp is a safe integer, as every real
 * one is) rather than through a BigInt per record.
 */
function messageMaker(topic: string, partition: number): RecordMaker<FetchedMessage> {
  let last: RecordBatchHeader | null = null
  let base = 0
  let logAppend = false
  return (header, offset, timestampDelta, key, value, headers) => {
    if (header !== last) {
      last = header
      logAppend = header.timestampType === 'log-append'
      base = Number(logAppend ? header.maxTimestamp : header.baseTimestamp)
    }
    let timestamp = logAppend ? base : base + timestampDelta
    if (!logAppend && !(Number.isSafeInteger(base) && Number.isSafeInteger(timestamp)))
      timestamp = Number(header.baseTimestamp + BigInt(timestampDelta))
    return {
      topic,
      partition,
      offset,
      key,
      value,
      headers,
      timestamp,
      leaderEpoch: header.partitionLeaderEpoch,
      assignment: 0,
    }
  }
}

function memoryOf(record: { key: Buffer | null; value: Buffer | null; headers: readonly RecordHeader[] }): number {
  let cost = MESSAGE_OVERHEAD
  if (record.key !== null) cost += BUFFER_OVERHEAD + record.key.length
  if (record.value !== null) cost += BUFFER_OVERHEAD + record.value.length
  for (const h of record.headers) {
    cost += HEADER_OVERHEAD + Buffer.byteLength(h.key, 'utf8')
    if (h.value !== null) cost += BUFFER_OVERHEAD + h.value.length
  }
  return cost
}

function epoch(header: RecordBatchHeader): number | null {
  return header.partitionLeaderEpoch === NO_EPOCH ? null : header.partitionLeaderEpoch
}
