// Kafka record batches, magic v2 (the only format Kafka 4.0 reads or writes), as described in
// Kafka's documentation, "Message Format" / "Record Batch" (kafka.apache.org/documentation):
//
//   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8
//   17 crc uint32 (CRC-32C of bytes 21..end) | 21 attributes int16 | 23 lastOffsetDelta int32
//   27 baseTimestamp int64 | 35 maxTimestamp int64 | 43 producerId int64 | 51 producerEpoch int16
//   53 baseSequence int32 | 57 recordsCount int32 | 61 records (one compressed blob if codec != 0)
//
// Encoding computes every record's size arithmetically first (zig-zag varint sizes), so a batch
// is written in one pass into one exactly sized buffer with no per-record allocation; the CRC is
// computed last. Decoding is bounds-checked: malformed bytes raise ProtocolDecodeError (structure)
// or CorruptRecordError (CRC mismatch, undecodable compressed data), never a RangeError, and no
// count or length read from the input can size an allocation beyond the bytes present.

import { ConfigError, CorruptRecordError, KafkaTsError, ProtocolDecodeError, ProtocolEncodeError } from '../errors.js'
import { CompressionCodecId, codecFromId, compress, decompress, type CompressionCodec } from './compression/index.js'
import { crc32c } from './crc32c.js'
import { Reader } from './reader.js'
import { Writer } from './writer.js'

// ---------------------------------------------------------------------------------------------
// Layout

const BASE_OFFSET_OFFSET = 0
const LENGTH_OFFSET = 8
const PARTITION_LEADER_EPOCH_OFFSET = 12
const MAGIC_OFFSET = 16
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21
const LAST_OFFSET_DELTA_OFFSET = 23
const BASE_TIMESTAMP_OFFSET = 27
const MAX_TIMESTAMP_OFFSET = 35
const PRODUCER_ID_OFFSET = 43
const PRODUCER_EPOCH_OFFSET = 51
const BASE_SEQUENCE_OFFSET = 53
const RECORDS_COUNT_OFFSET = 57
/** Bytes of the fixed batch header (Kafka's RECORD_BATCH_OVERHEAD). */
export const RECORD_BATCH_OVERHEAD = 61
/** baseOffset + batchLength: the bytes not counted by batchLength (Kafka's LOG_OVERHEAD). */
const LOG_OVERHEAD = 12
/** The smallest legal batchLength: a v2 header and no records. */
const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD
/**
 * The smallest possible record: length varint (1), attributes (1), timestampDelta (1),
 * offsetDelta (1), keyLength (1), valueLength (1), headersCount (1).
 */
const MIN_RECORD_SIZE = 7
/** The smallest record body (everything after the length varint). */
const MIN_RECORD_BODY = MIN_RECORD_SIZE - 1

const CURRENT_MAGIC = 2
const COMPRESSION_MASK = 0x07
const TIMESTAMP_TYPE_BIT = 0x08
const TRANSACTIONAL_BIT = 0x10
const CONTROL_BIT = 0x20
const DELETE_HORIZON_BIT = 0x40

const DEFAULT_MAX_DECOMPRESSED = 64 * 1024 * 1024
const INT32_MAX = 0x7fffffff
const MAX_TIMESTAMP_DELTA = 2 ** 52
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

// ---------------------------------------------------------------------------------------------
// Types

export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface RecordInput {
  key: Buffer | null
  value: Buffer | null
  headers?: readonly RecordHeader[]
  /** Milliseconds since the epoch (CreateTime). */
  timestamp: number
}

export interface EncodeBatchOptions {
  records: readonly RecordInput[]
  /** Default 'none'. */
  compression?: CompressionCodec
  /** Default 0n (the broker assigns offsets on produce). */
  baseOffset?: bigint
  /** Default -1 (the broker sets it). */
  partitionLeaderEpoch?: number
  /** Default -1n (neither idempotent nor transactional). */
  producerId?: bigint
  /** Default -1. */
  producerEpoch?: number
  /** Default -1. */
  baseSequence?: number
  transactional?: boolean
  control?: boolean
  /** Default 'create'. */
  timestampType?: 'create' | 'log-append'
}

/** The fixed 61-byte part of a batch, read without decompressing anything. */
export interface RecordBatchHeader {
  baseOffset: bigint
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  /** The stored CRC-32C, unsigned. */
  crc: number
  attributes: number
  compression: CompressionCodec
  timestampType: 'create' | 'log-append'
  isTransactional: boolean
  isControl: boolean
  hasDeleteHorizon: boolean
  lastOffsetDelta: number
  /** The first record's timestamp; the delete horizon when `hasDeleteHorizon`; -1 for an empty batch. */
  baseTimestamp: bigint
  maxTimestamp: bigint
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  recordCount: number
  /** total bytes of this batch = batchLength + 12 */
  size: number
}

/**
 * A decoded record. `key`, `value` and header values are views into the batch buffer (or, for a
 * compressed batch, into the decompressed buffer), not copies: copy them (`Buffer.from(x)`) to
 * keep them beyond the life of that buffer, and do not mutate the batch buffer while they live.
 */
export interface Record {
  /** Absolute offset: baseOffset + offsetDelta. */
  offset: bigint
  /** Absolute timestamp: baseTimestamp + timestampDelta, or the batch maxTimestamp for LogAppendTime. */
  timestamp: bigint
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
  /** The record's own attributes byte (unused by Kafka, 0). */
  attributes: number
}

export interface RecordBatch extends RecordBatchHeader {
  records: Record[]
}

export interface ControlRecord {
  /** 'other' for the KRaft-internal types (2-6) and any type this client does not know. */
  type: 'abort' | 'commit' | 'other'
  typeId: number
  /** The control record key's version. */
  version: number
  /** The transaction coordinator's epoch (abort and commit markers only). */
  coordinatorEpoch?: number
}

export interface DecodeOptions {
  /** Check the batch CRC-32C first (default true). */
  verifyCrc?: boolean
  /** Most bytes one batch may decompress to (default 64 MiB); more is a CorruptRecordError. */
  maxDecompressedBytes?: number
  /**
   * Keys, values and header values are copies (default false: views into the batch, or into its
   * decompressed records, which each of them keeps alive).
   */
  copy?: boolean
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Record body sizes of the batch being encoded (synchronous use only, between two awaits). */
let sizeScratch = new Int32Array(1024)

interface Sized {
  /** Bytes of the records section, uncompressed. */
  recordsSize: number
  baseTimestamp: number
  maxTimestamp: number
}

function encodeError(message: string): ProtocolEncodeError {
  return new ProtocolEncodeError(`record batch: ${message}`)
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw encodeError(`${name} ${value} is out of range [${min}, ${max}]`)
}

function checkInt64(name: string, value: bigint): void {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX)
    throw encodeError(`${name} ${String(value)} is not an int64`)
}

/** Bytes of a zig-zag varint (32-bit). */
function varintBytes(value: number): number {
  const zz = ((value << 1) ^ (value >> 31)) >>> 0
  return zz < 0x80 ? 1 : zz < 0x4000 ? 2 : zz < 0x200000 ? 3 : zz < 0x10000000 ? 4 : 5
}

/** Bytes of a zig-zag varlong given as a number within ±2^52. */
function varlongBytes(value: number): number {
  if (value >= -64 && value < 64) return 1
  let zz = value >= 0 ? value * 2 : -value * 2 - 1
  let size = 1
  while (zz >= 128) {
    zz = Math.floor(zz / 128)
    size++
  }
  return size
}

function putUvarint(buf: Buffer, pos: number, zz: number): number {
  while (zz > 0x7f) {
    buf[pos++] = (zz & 0x7f) | 0x80
    zz >>>= 7
  }
  buf[pos++] = zz
  return pos
}

function putVarint(buf: Buffer, pos: number, value: number): number {
  return putUvarint(buf, pos, ((value << 1) ^ (value >> 31)) >>> 0)
}

function putVarlong(buf: Buffer, pos: number, value: number): number {
  if (value >= -64 && value < 64) {
    buf[pos] = value >= 0 ? value * 2 : -value * 2 - 1
    return pos + 1
  }
  let zz = value >= 0 ? value * 2 : -value * 2 - 1
  while (zz > 0x7f) {
    buf[pos++] = (zz % 128) | 0x80
    zz = Math.floor(zz / 128)
  }
  buf[pos++] = zz
  return pos
}

/** Validates the records and fills `sizeScratch` with each record's body size. */
function sizeRecords(records: readonly RecordInput[]): Sized {
  const count = records.length
  if (count > INT32_MAX) throw encodeError(`${count} records do not fit in one batch`)
  if (sizeScratch.length < count) sizeScratch = new Int32Array(Math.max(count, sizeScratch.length * 2))
  const sizes = sizeScratch
  if (count === 0) return { recordsSize: 0, baseTimestamp: -1, maxTimestamp: -1 }
  const baseTimestamp = records[0]!.timestamp
  let maxTimestamp = baseTimestamp
  let total = 0
  for (let i = 0; i < count; i++) {
    const r = records[i]!
    const ts = r.timestamp
    if (!Number.isSafeInteger(ts)) throw encodeError(`record ${i} has a timestamp that is not an integer: ${ts}`)
    const delta = ts - baseTimestamp
    if (delta > MAX_TIMESTAMP_DELTA || delta < -MAX_TIMESTAMP_DELTA)
      throw encodeError(`record ${i} timestamp ${ts} is too far from the first record's`)
    if (ts > maxTimestamp) maxTimestamp = ts
    const key = r.key
    const value = r.value
    // attributes (1) + timestampDelta + offsetDelta
    let size = 1 + varlongBytes(delta) + varintBytes(i)
    size += key === null ? 1 : varintBytes(key.length) + key.length
    size += value === null ? 1 : varintBytes(value.length) + value.length
    const headers = r.headers
    if (headers === undefined || headers.length === 0) {
      size += 1
    } else {
      size += varintBytes(headers.length)
      for (let h = 0; h < headers.length; h++) {
        const header = headers[h]!
        if (typeof header.key !== 'string') throw encodeError(`record ${i} header ${h} has no string key`)
        const keyLength = Buffer.byteLength(header.key, 'utf8')
        size += varintBytes(keyLength) + keyLength
        const hv = header.value
        size += hv === null ? 1 : varintBytes(hv.length) + hv.length
      }
    }
    if (size > INT32_MAX) throw encodeError(`record ${i} is too large`)
    sizes[i] = size
    total += varintBytes(size) + size
  }
  if (total > INT32_MAX - RECORD_BATCH_OVERHEAD) throw encodeError(`records of ${total} bytes do not fit in one batch`)
  return { recordsSize: total, baseTimestamp, maxTimestamp }
}

/** Writes the records (sized by `sizeRecords`) at `buf[pos..]`; returns the end position. */
function writeRecords(buf: Buffer, pos: number, records: readonly RecordInput[], baseTimestamp: number): number {
  const sizes = sizeScratch
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    pos = putUvarint(buf, pos, sizes[i]! * 2) // zig-zag of a non-negative size
    buf[pos++] = 0 // attributes
    pos = putVarlong(buf, pos, r.timestamp - baseTimestamp)
    pos = putVarint(buf, pos, i)
    const key = r.key
    if (key === null)
      buf[pos++] = 1 // zig-zag -1
    else {
      pos = putVarint(buf, pos, key.length)
      buf.set(key, pos)
      pos += key.length
    }
    const value = r.value
    if (value === null) buf[pos++] = 1
    else {
      pos = putVarint(buf, pos, value.length)
      buf.set(value, pos)
      pos += value.length
    }
    const headers = r.headers
    if (headers === undefined || headers.length === 0) buf[pos++] = 0
    else {
      pos = putVarint(buf, pos, headers.length)
      for (let h = 0; h < headers.length; h++) {
        const header = headers[h]!
        const keyLength = Buffer.byteLength(header.key, 'utf8')
        pos = putVarint(buf, pos, keyLength)
        pos += buf.write(header.key, pos, keyLength, 'utf8')
        const hv = header.value
        if (hv === null) buf[pos++] = 1
        else {
          pos = putVarint(buf, pos, hv.length)
          buf.set(hv, pos)
          pos += hv.length
        }
      }
    }
  }
  return pos
}

interface HeaderFields {
  baseOffset: bigint
  partitionLeaderEpoch: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: bigint
  maxTimestamp: bigint
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

function resolveHeader(options: EncodeBatchOptions, codec: CompressionCodec, sized: Sized): HeaderFields {
  const baseOffset = options.baseOffset ?? 0n
  const partitionLeaderEpoch = options.partitionLeaderEpoch ?? -1
  const producerId = options.producerId ?? -1n
  const producerEpoch = options.producerEpoch ?? -1
  const baseSequence = options.baseSequence ?? -1
  checkInt64('baseOffset', baseOffset)
  checkInt('partitionLeaderEpoch', partitionLeaderEpoch, -0x80000000, INT32_MAX)
  checkInt64('producerId', producerId)
  checkInt('producerEpoch', producerEpoch, -0x8000, 0x7fff)
  checkInt('baseSequence', baseSequence, -0x80000000, INT32_MAX)
  const codecId = (CompressionCodecId as { readonly [k: string]: number | undefined })[codec]
  if (codecId === undefined) throw encodeError(`unknown compression codec ${String(codec)}`)
  let attributes = codecId
  const timestampType = options.timestampType ?? 'create'
  if (timestampType === 'log-append') attributes |= TIMESTAMP_TYPE_BIT
  else if (timestampType !== 'create') throw encodeError(`unknown timestamp type ${String(timestampType)}`)
  if (options.transactional === true) attributes |= TRANSACTIONAL_BIT
  if (options.control === true) attributes |= CONTROL_BIT
  const count = options.records.length
  return {
    baseOffset,
    partitionLeaderEpoch,
    attributes,
    lastOffsetDelta: count - 1, // -1 for an empty batch: it covers no offsets
    baseTimestamp: BigInt(sized.baseTimestamp),
    maxTimestamp: BigInt(sized.maxTimestamp),
    producerId,
    producerEpoch,
    baseSequence,
    recordCount: count,
  }
}

/** Fills the 61-byte header of the batch at `buf[0..size)` and computes its CRC. */
function finishBatch(buf: Buffer, size: number, h: HeaderFields): void {
  buf.writeBigInt64BE(h.baseOffset, BASE_OFFSET_OFFSET)
  buf.writeInt32BE(size - LOG_OVERHEAD, LENGTH_OFFSET)
  buf.writeInt32BE(h.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET)
  buf[MAGIC_OFFSET] = CURRENT_MAGIC
  buf.writeInt16BE(h.attributes, ATTRIBUTES_OFFSET)
  buf.writeInt32BE(h.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET)
  buf.writeBigInt64BE(h.baseTimestamp, BASE_TIMESTAMP_OFFSET)
  buf.writeBigInt64BE(h.maxTimestamp, MAX_TIMESTAMP_OFFSET)
  buf.writeBigInt64BE(h.producerId, PRODUCER_ID_OFFSET)
  buf.writeInt16BE(h.producerEpoch, PRODUCER_EPOCH_OFFSET)
  buf.writeInt32BE(h.baseSequence, BASE_SEQUENCE_OFFSET)
  buf.writeInt32BE(h.recordCount, RECORDS_COUNT_OFFSET)
  buf.writeUInt32BE(crc32c(buf, ATTRIBUTES_OFFSET, size), CRC_OFFSET)
}

/** An uncompressed batch: header and records in one exactly sized buffer. */
function encodeUncompressed(options: EncodeBatchOptions): Buffer {
  const sized = sizeRecords(options.records)
  const header = resolveHeader(options, 'none', sized)
  const size = RECORD_BATCH_OVERHEAD + sized.recordsSize
  const w = new Writer(size)
  w.offset = writeRecords(w.buffer, RECORD_BATCH_OVERHEAD, options.records, sized.baseTimestamp)
  if (w.offset !== size)
    throw encodeError(
      `size mismatch (were the records changed while encoding?): wrote ${w.offset} bytes, computed ${size}`,
    )
  const buf = w.view()
  finishBatch(buf, size, header)
  return buf
}

/**
 * Encodes one record batch. Offset deltas are the records' indexes; baseTimestamp is the first
 * record's timestamp and maxTimestamp the largest. An empty `records` gives an empty batch
 * (lastOffsetDelta -1, timestamps -1), which brokers reject on produce.
 */
export async function encodeRecordBatch(options: EncodeBatchOptions): Promise<Buffer> {
  const codec = options.compression ?? 'none'
  if (codec === 'none') return encodeUncompressed(options)
  const sized = sizeRecords(options.records)
  const header = resolveHeader(options, codec, sized)
  // A buffer of its own (not a shared scratch): compressors may read it after we yield.
  const w = new Writer(sized.recordsSize)
  w.offset = writeRecords(w.buffer, 0, options.records, sized.baseTimestamp)
  if (w.offset !== sized.recordsSize)
    throw encodeError(
      `size mismatch (were the records changed while encoding?): wrote ${w.offset} bytes, computed ${sized.recordsSize}`,
    )
  let compressed: Buffer
  try {
    compressed = await compress(codec, w.view())
  } catch (err) {
    if (err instanceof KafkaTsError) throw err
    throw new ProtocolEncodeError(`record batch: ${codec} compression failed: ${(err as Error).message}`, {
      cause: err,
    })
  }
  const size = RECORD_BATCH_OVERHEAD + compressed.length
  if (size - LOG_OVERHEAD > INT32_MAX) throw encodeError(`compressed batch of ${size} bytes is too large`)
  const out = Buffer.allocUnsafe(size)
  compressed.copy(out, RECORD_BATCH_OVERHEAD)
  finishBatch(out, size, header)
  return out
}

/** `encodeRecordBatch` without compression, synchronously; throws for any other codec. */
export function encodeRecordBatchSync(options: EncodeBatchOptions): Buffer {
  const codec = options.compression ?? 'none'
  if (codec !== 'none')
    throw encodeError(`encodeRecordBatchSync cannot compress (${String(codec)}); use encodeRecordBatch`)
  return encodeUncompressed(options)
}

/**
 * A transaction marker: a control batch (transactional + control bits) holding one record whose
 * key is `version 0, type` (0 abort, 1 commit) and whose value is `version 0, coordinatorEpoch`.
 */
export function encodeControlBatch(options: {
  type: 'abort' | 'commit'
  producerId: bigint
  producerEpoch: number
  coordinatorEpoch: number
  timestamp: number
  baseOffset?: bigint
  partitionLeaderEpoch?: number
}): Buffer {
  if (options.type !== 'abort' && options.type !== 'commit')
    throw encodeError(`unknown control record type ${String(options.type)}`)
  checkInt('coordinatorEpoch', options.coordinatorEpoch, -0x80000000, INT32_MAX)
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(options.type === 'abort' ? 0 : 1, 2)
  const value = Buffer.alloc(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(options.coordinatorEpoch, 2)
  const batch: EncodeBatchOptions = {
    records: [{ key, value, timestamp: options.timestamp }],
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    transactional: true,
    control: true,
  }
  if (options.baseOffset !== undefined) batch.baseOffset = options.baseOffset
  if (options.partitionLeaderEpoch !== undefined) batch.partitionLeaderEpoch = options.partitionLeaderEpoch
  return encodeUncompressed(batch)
}

// ---------------------------------------------------------------------------------------------
// Header access and in-place updates

function checkOffset(buf: Buffer, offset: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > buf.length) {
    throw new ProtocolDecodeError(`${what}: offset ${offset} is outside the ${buf.length}-byte buffer`)
  }
}

/**
 * Reads the fixed 61-byte header of the batch at `buf[offset..]` without touching the records
 * (the rest of the batch need not be present). Throws ProtocolDecodeError when fewer than 61
 * bytes remain, the magic is not 2, batchLength is below the v2 minimum, the codec id is
 * unknown or the record count is negative.
 */
export function readBatchHeader(buf: Buffer, offset = 0): RecordBatchHeader {
  checkOffset(buf, offset, 'record batch header')
  const available = buf.length - offset
  if (available > MAGIC_OFFSET) {
    const magic = buf.readInt8(offset + MAGIC_OFFSET)
    if (magic !== CURRENT_MAGIC) {
      throw new ProtocolDecodeError(
        `record batch at byte ${offset}: unsupported magic ${magic} (only v2 record batches are supported)`,
      )
    }
  }
  if (available < RECORD_BATCH_OVERHEAD) {
    throw new ProtocolDecodeError(
      `record batch at byte ${offset}: header needs ${RECORD_BATCH_OVERHEAD} bytes, ${available} remain`,
    )
  }
  const batchLength = buf.readInt32BE(offset + LENGTH_OFFSET)
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new ProtocolDecodeError(
      `record batch at byte ${offset}: batchLength ${batchLength} is below the minimum of ${MIN_BATCH_LENGTH}`,
    )
  }
  const attributes = buf.readInt16BE(offset + ATTRIBUTES_OFFSET)
  const codecId = attributes & COMPRESSION_MASK
  if (codecId > 4)
    throw new ProtocolDecodeError(`record batch at byte ${offset}: unknown compression codec id ${codecId}`)
  const recordCount = buf.readInt32BE(offset + RECORDS_COUNT_OFFSET)
  if (recordCount < 0)
    throw new ProtocolDecodeError(`record batch at byte ${offset}: negative record count ${recordCount}`)
  return {
    baseOffset: buf.readBigInt64BE(offset + BASE_OFFSET_OFFSET),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(offset + PARTITION_LEADER_EPOCH_OFFSET),
    magic: CURRENT_MAGIC,
    crc: buf.readUInt32BE(offset + CRC_OFFSET),
    attributes,
    compression: codecFromId(codecId),
    timestampType: attributes & TIMESTAMP_TYPE_BIT ? 'log-append' : 'create',
    isTransactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    isControl: (attributes & CONTROL_BIT) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_BIT) !== 0,
    lastOffsetDelta: buf.readInt32BE(offset + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: buf.readBigInt64BE(offset + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: buf.readBigInt64BE(offset + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(offset + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(offset + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(offset + BASE_SEQUENCE_OFFSET),
    recordCount,
    size: batchLength + LOG_OVERHEAD,
  }
}

/** The size of the whole batch at `offset`, checked to be present in `buf`. */
function completeBatchSize(buf: Buffer, offset: number, what: string): number {
  const header = readBatchHeader(buf, offset)
  if (header.size > buf.length - offset) {
    throw new ProtocolDecodeError(
      `${what}: batch at byte ${offset} declares ${header.size} bytes, ${buf.length - offset} present`,
    )
  }
  return header.size
}

/** Throws CorruptRecordError unless the stored CRC-32C matches bytes attributes..end. */
export function verifyBatchCrc(buf: Buffer, offset = 0): void {
  const size = completeBatchSize(buf, offset, 'verifyBatchCrc')
  const stored = buf.readUInt32BE(offset + CRC_OFFSET)
  const computed = crc32c(buf, offset + ATTRIBUTES_OFFSET, offset + size)
  if (stored !== computed) {
    throw new CorruptRecordError(
      `record batch at byte ${offset} is corrupt: stored CRC 0x${stored.toString(16).padStart(8, '0')}, computed 0x${computed.toString(16).padStart(8, '0')}`,
    )
  }
}

function checkHeaderPresent(buf: Buffer, offset: number, what: string): void {
  checkOffset(buf, offset, what)
  if (buf.length - offset < RECORD_BATCH_OVERHEAD)
    throw new ProtocolDecodeError(`${what}: no batch header at byte ${offset}`)
}

/** Sets baseOffset in place (not covered by the CRC). */
export function setBatchBaseOffset(buf: Buffer, offset: number, baseOffset: bigint): void {
  checkHeaderPresent(buf, offset, 'setBatchBaseOffset')
  checkInt64('baseOffset', baseOffset)
  buf.writeBigInt64BE(baseOffset, offset + BASE_OFFSET_OFFSET)
}

/** Sets partitionLeaderEpoch in place (not covered by the CRC). */
export function setBatchPartitionLeaderEpoch(buf: Buffer, offset: number, epoch: number): void {
  checkHeaderPresent(buf, offset, 'setBatchPartitionLeaderEpoch')
  checkInt('partitionLeaderEpoch', epoch, -0x80000000, INT32_MAX)
  buf.writeInt32BE(epoch, offset + PARTITION_LEADER_EPOCH_OFFSET)
}

/**
 * Marks the batch LogAppendTime (attributes bit 3) with `timestamp` as its maxTimestamp, and
 * recomputes the CRC. What a broker does on append to a topic with
 * message.timestamp.type=LogAppendTime; readers then give every record this timestamp.
 */
export function setBatchLogAppendTime(buf: Buffer, offset: number, timestamp: bigint): void {
  const size = completeBatchSize(buf, offset, 'setBatchLogAppendTime')
  checkInt64('timestamp', timestamp)
  const attributes = buf.readInt16BE(offset + ATTRIBUTES_OFFSET)
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_BIT, offset + ATTRIBUTES_OFFSET)
  buf.writeBigInt64BE(timestamp, offset + MAX_TIMESTAMP_OFFSET)
  buf.writeUInt32BE(crc32c(buf, offset + ATTRIBUTES_OFFSET, offset + size), offset + CRC_OFFSET)
}

/**
 * Splits a records blob into complete batches (views, no copy); a trailing partial batch (Kafka truncates at MaxBytes) is dropped silently.
 * A batchLength below the v2 minimum (which no partial batch can excuse) is a ProtocolDecodeError.
 * Magic is not checked here; `decodeRecordBatch` rejects anything but v2.
 */
export function splitBatches(records: Buffer): Buffer[] {
  const out: Buffer[] = []
  let at = 0
  const end = records.length
  while (end - at >= LOG_OVERHEAD) {
    const batchLength = records.readInt32BE(at + LENGTH_OFFSET)
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new ProtocolDecodeError(
        `records: batch at byte ${at} has batchLength ${batchLength}, below the minimum of ${MIN_BATCH_LENGTH}`,
      )
    }
    const size = batchLength + LOG_OVERHEAD
    if (size > end - at) break // partial batch at the end
    out.push(records.subarray(at, at + size))
    at += size
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Decoding

function resolveBudget(options: DecodeOptions | undefined): number {
  const budget = options?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED
  if (!Number.isSafeInteger(budget) || budget < 0) {
    throw new ConfigError('maxDecompressedBytes', `must be a non-negative integer, got ${budget}`)
  }
  return budget
}

/**
 * Decodes the batch at the start of `batch` (bytes after it are ignored; `splitBatches` gives
 * exact views). Verifies the CRC unless `verifyCrc: false`, decompresses within
 * `maxDecompressedBytes`, and parses every record. Keys, values and header values are views into
 * `batch` or into the decompressed buffer (see `Record`).
 */
export async function decodeRecordBatch(batch: Buffer, options?: DecodeOptions): Promise<RecordBatch> {
  return decodeRecordBatchWith(batch, options, makeRecord)
}

/**
 * Builds one decoded record from its batch's header, its absolute offset and its own fields, so
 * a reader can decode straight into its own message objects (one object per record, no
 * intermediate Record and no BigInt timestamp: they were a third of a consumer's garbage).
 */
export type RecordMaker<T> = (
  header: RecordBatchHeader,
  offset: bigint,
  timestampDelta: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: RecordHeader[],
  attributes: number,
) => T

const makeRecord: RecordMaker<Record> = (header, offset, timestampDelta, key, value, headers, attributes) => ({
  offset,
  timestamp:
    header.timestampType === 'log-append' ? header.maxTimestamp : header.baseTimestamp + BigInt(timestampDelta),
  key,
  value,
  headers,
  attributes,
})

/** decodeRecordBatch with records built by `make` (the same checks, in the same order). */
export async function decodeRecordBatchWith<T>(
  batch: Buffer,
  options: DecodeOptions | undefined,
  make: RecordMaker<T>,
): Promise<RecordBatchHeader & { records: T[] }> {
  const budget = resolveBudget(options)
  const header = readBatchHeader(batch, 0)
  if (header.size > batch.length) {
    throw new ProtocolDecodeError(`record batch is truncated: declares ${header.size} bytes, ${batch.length} present`)
  }
  if (options?.verifyCrc !== false) verifyBatchCrc(batch, 0)
  let data = batch.subarray(RECORD_BATCH_OVERHEAD, header.size)
  if (header.compression !== 'none') {
    try {
      data = await decompress(header.compression, data, budget)
    } catch (err) {
      if (err instanceof KafkaTsError) throw err
      throw new CorruptRecordError(
        `record batch: ${header.compression} data does not decompress: ${(err as Error).message}`,
        { cause: err },
      )
    }
  }
  const records = parseRecords(data, header, options?.copy === true, make)
  const out = header as RecordBatchHeader & { records: T[] }
  out.records = records
  return out
}

function parseRecords<T>(data: Buffer, header: RecordBatchHeader, copy: boolean, make: RecordMaker<T>): T[] {
  const count = header.recordCount
  if (count > Math.floor(data.length / MIN_RECORD_SIZE)) {
    throw new ProtocolDecodeError(`record batch: ${count} records cannot fit in ${data.length} bytes`)
  }
  const r = new Reader(data)
  const records: T[] = []
  const baseOffset = header.baseOffset
  for (let i = 0; i < count; i++) {
    const length = r.varint()
    if (r.error !== null) break
    if (length < MIN_RECORD_BODY || length > r.remaining) {
      r.fail(`record ${i} has length ${length}, ${r.remaining} bytes remain`)
      break
    }
    const recordEnd = r.offset + length
    const attributes = r.int8()
    const timestampDelta = r.varlong()
    const offsetDelta = r.varint()
    const keyLength = r.varint()
    const key = keyLength === -1 ? null : copy ? r.copy(keyLength) : r.raw(keyLength)
    const valueLength = r.varint()
    const value = valueLength === -1 ? null : copy ? r.copy(valueLength) : r.raw(valueLength)
    const headerCount = r.varint()
    if (r.error !== null) break
    if (headerCount < 0 || headerCount * 2 > recordEnd - r.offset) {
      r.fail(`record ${i} has an invalid header count ${headerCount}`)
      break
    }
    const headers: RecordHeader[] = []
    for (let h = 0; h < headerCount; h++) {
      const headerKeyLength = r.varint()
      if (headerKeyLength < 0 || headerKeyLength > r.remaining) {
        r.fail(`record ${i} header ${h} has an invalid key length ${headerKeyLength}`)
        break
      }
      // Decoded straight from the buffer: no intermediate view for the key.
      const headerKey = data.toString('utf8', r.offset, r.offset + headerKeyLength)
      r.offset += headerKeyLength
      const headerValueLength = r.varint()
      const headerValue = headerValueLength === -1 ? null : copy ? r.copy(headerValueLength) : r.raw(headerValueLength)
      if (r.error !== null) break
      headers.push({ key: headerKey, value: headerValue })
    }
    if (r.error !== null) break
    if (r.offset !== recordEnd) {
      r.fail(`record ${i} declares ${length} bytes but its fields take ${length + r.offset - recordEnd}`)
      break
    }
    records.push(make(header, baseOffset + BigInt(offsetDelta), timestampDelta, key, value, headers, attributes))
  }
  if (r.error !== null)
    throw new ProtocolDecodeError(`record batch at offset ${baseOffset}: ${r.error.message}`, { cause: r.error })
  if (r.remaining !== 0) {
    throw new ProtocolDecodeError(
      `record batch at offset ${baseOffset}: ${r.remaining} bytes left after its ${count} records`,
    )
  }
  return records
}

/** Decodes every complete batch of a records blob (a trailing partial batch is dropped). */
export async function decodeRecordBatches(records: Buffer | null, options?: DecodeOptions): Promise<RecordBatch[]> {
  if (records === null || records.length === 0) return []
  const batches = splitBatches(records)
  const out: RecordBatch[] = []
  for (const batch of batches) out.push(await decodeRecordBatch(batch, options))
  return out
}

/**
 * Reads a control record (a record of a batch with `isControl`). The key is `version: int16,
 * type: int16`; for ABORT (0) and COMMIT (1) the value is `version: int16, coordinatorEpoch: int32`.
 * Other types (KRaft-internal or unknown) are returned as 'other' without reading the value.
 */
export function decodeControlRecord(record: Record): ControlRecord {
  const key = record.key
  if (key === null || key.length < 4) {
    throw new ProtocolDecodeError(
      `control record key must hold at least 4 bytes, got ${key === null ? 'null' : key.length}`,
    )
  }
  const version = key.readInt16BE(0)
  if (version < 0) throw new ProtocolDecodeError(`control record key has a negative version ${version}`)
  const typeId = key.readInt16BE(2)
  if (typeId !== 0 && typeId !== 1) return { type: 'other', typeId, version }
  const value = record.value
  if (value === null || value.length < 6) {
    throw new ProtocolDecodeError(
      `transaction marker value must hold at least 6 bytes, got ${value === null ? 'null' : value.length}`,
    )
  }
  const valueVersion = value.readInt16BE(0)
  if (valueVersion < 0) throw new ProtocolDecodeError(`transaction marker value has a negative version ${valueVersion}`)
  return { type: typeId === 0 ? 'abort' : 'commit', typeId, version, coordinatorEpoch: value.readInt32BE(2) }
}
