// A partition's log: record batches kept as the bytes the producer sent, with the broker's
// fields (baseOffset, partitionLeaderEpoch, LogAppendTime) written in place. Nothing is
// re-encoded per record on the produce or fetch path.
//
// Batches are grouped in segments like Kafka's log (segment.bytes / segment.ms roll a new one),
// because retention deletes whole segments and a fetch reads from one segment at a time; with
// Kafka's defaults (1 GiB segments) a small test log is one segment, exactly as in Kafka.
//
// Offsets are plain numbers here (exact up to 2^53, far beyond any in-process log); the wire
// types (int64) are converted at the handler edge.

import {
  decodeRecordBatch,
  encodeRecordBatch,
  readBatchHeader,
  setBatchBaseOffset,
  setBatchLogAppendTime,
  setBatchPartitionLeaderEpoch,
  type RecordBatchHeader,
  type RecordInput,
} from '../protocol/record-batch.js'

export interface StoredBatch {
  baseOffset: number
  lastOffset: number
  /** The whole batch as stored (and served). */
  data: Buffer
  maxTimestamp: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  isTransactional: boolean
  isControl: boolean
  /** partitionLeaderEpoch written into the batch. */
  leaderEpoch: number
}

interface Segment {
  baseOffset: number
  batches: StoredBatch[]
  bytes: number
  createdMs: number
  /** Largest batch maxTimestamp in the segment (Kafka's time index drives time retention). */
  maxTimestamp: number
}

export interface LogConfigView {
  segmentBytes: number
  segmentMs: number
}

/** One entry of the leader epoch cache: the first offset written in `epoch`. */
export interface EpochEntry {
  epoch: number
  startOffset: number
}

export interface ReadResult {
  /** Batches from the one containing the fetch offset, possibly cut at the byte limit (Kafka slices bytes). */
  records: Buffer | null
  /** Offset just after the last whole batch returned (for the aborted-transactions range). */
  endOffset: number
}

/**
 * Told about every change to the stored batches (the data dir's journal). `appending` runs
 * before the batch is stored, so a failed write leaves the log as it was.
 */
export interface LogObserver {
  appending(batch: StoredBatch): void
  /** Batches were removed or rewritten (truncation, retention, DeleteRecords, compaction). */
  rewritten(): void
}

/**
 * Batches are copied into chunks of this size one after another, so that consecutive batches sit
 * side by side in memory and a Fetch serves them as one slice, without copying them (the bytes
 * of a log segment, as Kafka's sendfile serves them). Larger batches get their own buffer.
 */
const ARENA_BYTES = 1024 * 1024

export class PartitionLog {
  private segments: Segment[] = []
  /** Where appended batches are copied (see ARENA_BYTES); a chunk lives while a batch in it does. */
  private arena = Buffer.alloc(0)
  private arenaUsed = 0
  observer: LogObserver | undefined
  logStartOffset = 0
  /** Log end offset: the offset the next batch gets. */
  endOffset = 0
  /** Total bytes of stored batches. */
  size = 0
  readonly epochs: EpochEntry[] = []

  constructor(private readonly config: () => LogConfigView) {}

  get batchCount(): number {
    let n = 0
    for (const s of this.segments) n += s.batches.length
    return n
  }

  /** Every stored batch, oldest first. */
  *batches(): IterableIterator<StoredBatch> {
    for (const s of this.segments) yield* s.batches
  }

  /**
   * A private copy of a batch to append, placed right after the previous one when it fits (see
   * ARENA_BYTES): the request buffer it comes from may be a view of a larger socket chunk.
   */
  copyForAppend(data: Uint8Array): Buffer {
    if (data.length > ARENA_BYTES / 4) {
      const own = Buffer.allocUnsafeSlow(data.length)
      own.set(data)
      return own
    }
    if (this.arenaUsed + data.length > this.arena.length) {
      this.arena = Buffer.allocUnsafeSlow(ARENA_BYTES)
      this.arenaUsed = 0
    }
    const copy = this.arena.subarray(this.arenaUsed, this.arenaUsed + data.length)
    copy.set(data)
    this.arenaUsed += data.length
    return copy
  }

  /**
   * Appends one validated batch, assigning its offsets in place. `data` becomes owned by the
   * log (callers pass a private copy, from copyForAppend). Returns the stored batch.
   */
  append(
    data: Buffer,
    header: RecordBatchHeader,
    leaderEpoch: number,
    nowMs: number,
    logAppendTime: boolean,
  ): StoredBatch {
    const baseOffset = this.endOffset
    setBatchBaseOffset(data, 0, BigInt(baseOffset))
    setBatchPartitionLeaderEpoch(data, 0, leaderEpoch)
    let maxTimestamp = Number(header.maxTimestamp)
    if (logAppendTime) {
      setBatchLogAppendTime(data, 0, BigInt(nowMs))
      maxTimestamp = nowMs
    }
    const batch: StoredBatch = {
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      data,
      maxTimestamp,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      isTransactional: header.isTransactional,
      isControl: header.isControl,
      leaderEpoch,
    }
    this.observer?.appending(batch)
    this.push(batch, nowMs)
    return batch
  }

  /** Re-adds a batch read back from disk, keeping its offsets and leader epoch. */
  restore(data: Buffer, header: RecordBatchHeader, nowMs: number): StoredBatch {
    const baseOffset = Number(header.baseOffset)
    // The first batch read back sets where the log resumes (earlier ones may have been deleted).
    if (this.size === 0) this.endOffset = baseOffset
    const batch: StoredBatch = {
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      data,
      maxTimestamp: Number(header.maxTimestamp),
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      isTransactional: header.isTransactional,
      isControl: header.isControl,
      leaderEpoch: header.partitionLeaderEpoch,
    }
    this.push(batch, nowMs)
    return batch
  }

  /** Sets the offsets of an empty log (restoring a log whose batches were all deleted). */
  resetOffsets(logStartOffset: number, endOffset: number): void {
    this.logStartOffset = logStartOffset
    if (this.size === 0) this.endOffset = Math.max(endOffset, logStartOffset)
  }

  private push(batch: StoredBatch, nowMs: number): void {
    const cfg = this.config()
    let active = this.segments[this.segments.length - 1]
    if (
      active === undefined ||
      (active.batches.length > 0 &&
        (active.bytes + batch.data.length > cfg.segmentBytes || nowMs - active.createdMs >= cfg.segmentMs))
    ) {
      active = { baseOffset: batch.baseOffset, batches: [], bytes: 0, createdMs: nowMs, maxTimestamp: -1 }
      this.segments.push(active)
    }
    active.batches.push(batch)
    active.bytes += batch.data.length
    active.maxTimestamp = Math.max(active.maxTimestamp, batch.maxTimestamp)
    this.size += batch.data.length
    this.endOffset = batch.lastOffset + 1
    const lastEpoch = this.epochs[this.epochs.length - 1]
    if (lastEpoch === undefined || batch.leaderEpoch > lastEpoch.epoch)
      this.epochs.push({ epoch: batch.leaderEpoch, startOffset: batch.baseOffset })
  }

  /** Segment and batch index of the batch holding `offset` (or the first batch after it). */
  private locate(offset: number): { seg: number; idx: number } | undefined {
    const segs = this.segments
    let lo = 0
    let hi = segs.length - 1
    let seg = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (segs[mid]!.baseOffset <= offset) {
        seg = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    if (seg < 0) seg = 0
    for (; seg < segs.length; seg++) {
      const batches = segs[seg]!.batches
      let l = 0
      let h = batches.length - 1
      let found = -1
      while (l <= h) {
        const mid = (l + h) >> 1
        if (batches[mid]!.lastOffset >= offset) {
          found = mid
          h = mid - 1
        } else l = mid + 1
      }
      if (found >= 0) return { seg, idx: found }
    }
    return undefined
  }

  /**
   * Reads like Kafka's LogSegment.read: from the batch containing `offset`, within one segment,
   * only batches that end below `upperBound` (the high watermark or last stable offset), and at
   * most `maxBytes` bytes cut exactly at the limit (so the last batch may be partial). With
   * `minOneBatch` the first batch is returned whole even when it is larger than `maxBytes` (KIP-74).
   */
  read(offset: number, maxBytes: number, upperBound: number, minOneBatch: boolean): ReadResult {
    const at = this.locate(offset)
    if (at === undefined) return { records: null, endOffset: offset }
    const batches = this.segments[at.seg]!.batches
    const first = batches[at.idx]!
    if (first.lastOffset >= upperBound) return { records: null, endOffset: offset }
    const limit = minOneBatch ? Math.max(maxBytes, first.data.length) : maxBytes
    if (limit <= 0) return { records: null, endOffset: offset }
    const parts: Buffer[] = []
    let total = 0
    let endOffset = offset
    for (let i = at.idx; i < batches.length; i++) {
      const b = batches[i]!
      if (b.lastOffset >= upperBound) break
      const room = limit - total
      if (room <= 0) break
      const part = b.data.length <= room ? b.data : b.data.subarray(0, room)
      // Batches side by side in memory (copyForAppend) become one slice: no copy.
      const last = parts[parts.length - 1]
      if (last !== undefined && last.buffer === part.buffer && last.byteOffset + last.length === part.byteOffset)
        parts[parts.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + part.length)
      else parts.push(part)
      total += part.length
      if (part !== b.data) break
      endOffset = b.lastOffset + 1
    }
    if (total === 0) return { records: null, endOffset: offset }
    return { records: parts.length === 1 ? parts[0]! : Buffer.concat(parts, total), endOffset }
  }

  /** Bytes readable from `offset` up to `upperBound`, for MinBytes accounting (whole batches). */
  bytesAvailable(offset: number, upperBound: number, cap: number): number {
    const at = this.locate(offset)
    if (at === undefined) return 0
    let total = 0
    for (let s = at.seg; s < this.segments.length; s++) {
      const batches = this.segments[s]!.batches
      for (let i = s === at.seg ? at.idx : 0; i < batches.length; i++) {
        const b = batches[i]!
        if (b.lastOffset >= upperBound) return total
        total += b.data.length
        if (total >= cap) return total
      }
    }
    return total
  }

  /** The stored batch containing `offset`, if any. */
  batchAt(offset: number): StoredBatch | undefined {
    const at = this.locate(offset)
    if (at === undefined) return undefined
    const b = this.segments[at.seg]!.batches[at.idx]!
    return b.baseOffset <= offset ? b : undefined
  }

  /** Removes every batch at or after `offset` (a new leader's log wins; Kafka truncates followers). */
  truncateTo(offset: number): void {
    if (offset >= this.endOffset) return
    const segs = this.segments
    while (segs.length > 0) {
      const last = segs[segs.length - 1]!
      while (last.batches.length > 0 && last.batches[last.batches.length - 1]!.baseOffset >= offset) {
        const b = last.batches.pop()!
        last.bytes -= b.data.length
        this.size -= b.data.length
      }
      if (last.batches.length === 0 && segs.length > 1) segs.pop()
      else break
    }
    const lastSeg = segs[segs.length - 1]
    if (lastSeg !== undefined) lastSeg.maxTimestamp = lastSeg.batches.reduce((m, b) => Math.max(m, b.maxTimestamp), -1)
    const lastBatch = lastSeg?.batches[lastSeg.batches.length - 1]
    this.endOffset =
      lastBatch === undefined
        ? Math.max(this.logStartOffset, Math.min(offset, this.endOffset))
        : lastBatch.lastOffset + 1
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1]!.startOffset >= this.endOffset)
      this.epochs.pop()
    this.observer?.rewritten()
  }

  /**
   * Moves the log start offset forward (DeleteRecords, retention) and drops segments that end
   * before it. Like Kafka, a segment that still holds the new start offset is kept whole.
   */
  advanceStartOffset(offset: number): void {
    if (offset <= this.logStartOffset) return
    this.logStartOffset = Math.min(offset, this.endOffset)
    const segs = this.segments
    while (segs.length > 0) {
      const seg = segs[0]!
      const last = seg.batches[seg.batches.length - 1]
      if (last === undefined || last.lastOffset >= this.logStartOffset) break
      // Keep the (now empty) active segment so appends continue into a fresh one.
      segs.shift()
      this.size -= seg.bytes
    }
    // Epochs wholly below the start offset are no longer answerable (Kafka truncates the cache from the start).
    while (this.epochs.length > 1 && this.epochs[1]!.startOffset <= this.logStartOffset) this.epochs.shift()
    const first = this.epochs[0]
    if (first !== undefined && first.startOffset < this.logStartOffset) first.startOffset = this.logStartOffset
    this.observer?.rewritten()
  }

  /**
   * Retention like Kafka's UnifiedLog.deleteOldSegments: whole segments below the high
   * watermark whose newest timestamp is older than retention.ms, then oldest segments while the
   * log exceeds retention.bytes. The active segment goes too when it qualifies (Kafka rolls it).
   */
  applyRetention(nowMs: number, retentionMs: number, retentionBytes: number, highWatermark: number): boolean {
    let changed = false
    const deletable = (seg: Segment): boolean => {
      const last = seg.batches[seg.batches.length - 1]
      return last !== undefined && last.lastOffset < highWatermark
    }
    if (retentionMs >= 0) {
      while (this.segments.length > 0) {
        const seg = this.segments[0]!
        if (!deletable(seg) || nowMs - seg.maxTimestamp <= retentionMs) break
        this.dropFirstSegment()
        changed = true
      }
    }
    if (retentionBytes >= 0) {
      while (this.segments.length > 0 && this.size > retentionBytes) {
        const seg = this.segments[0]!
        if (!deletable(seg) || this.size - seg.bytes < retentionBytes) break
        this.dropFirstSegment()
        changed = true
      }
    }
    return changed
  }

  private dropFirstSegment(): void {
    const seg = this.segments.shift()!
    this.size -= seg.bytes
    const next = this.segments[0]
    this.advanceStartOffset(
      next === undefined
        ? this.endOffset
        : Math.max(next.baseOffset, seg.batches[seg.batches.length - 1]!.lastOffset + 1),
    )
  }

  /** A leader starting `epoch` at `startOffset` (Partition.makeLeader assigns it before any data). */
  assignEpoch(epoch: number, startOffset: number): void {
    while (
      this.epochs.length > 0 &&
      this.epochs[this.epochs.length - 1]!.startOffset >= startOffset &&
      this.epochs[this.epochs.length - 1]!.epoch < epoch
    )
      this.epochs.pop()
    const last = this.epochs[this.epochs.length - 1]
    if (last === undefined || epoch > last.epoch) this.epochs.push({ epoch, startOffset })
  }

  /**
   * The end offset of `epoch` (LeaderEpochFileCache.endOffsetFor): the current epoch ends at the
   * log end; an older one at the start of the next known epoch, reported with the largest known
   * epoch not above it (or the requested epoch when it predates every entry); unknown → -1, -1.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    if (epoch < 0) return { epoch: -1, endOffset: -1 }
    const last = this.epochs[this.epochs.length - 1]
    if (last !== undefined && last.epoch === epoch) return { epoch, endOffset: this.endOffset }
    const higher = this.epochs.find((e) => e.epoch > epoch)
    if (higher === undefined) return { epoch: -1, endOffset: -1 }
    let floor: EpochEntry | undefined
    for (const e of this.epochs) if (e.epoch <= epoch) floor = e
    return floor === undefined
      ? { epoch, endOffset: higher.startOffset }
      : { epoch: floor.epoch, endOffset: higher.startOffset }
  }

  /** The epoch of the batch holding `offset`, or -1. */
  epochAt(offset: number): number {
    let epoch = -1
    for (const e of this.epochs) {
      if (e.startOffset <= offset) epoch = e.epoch
      else break
    }
    return epoch
  }

  /**
   * The first record whose timestamp is >= `timestamp` (ListOffsets by time), below `upperBound`.
   * Decodes only the one batch that holds it.
   */
  async offsetForTimestamp(
    timestamp: number,
    upperBound: number,
  ): Promise<{ offset: number; timestamp: number } | undefined> {
    for (const seg of this.segments) {
      if (seg.maxTimestamp < timestamp) continue
      for (const b of seg.batches) {
        if (b.lastOffset >= upperBound) return undefined
        if (b.maxTimestamp < timestamp || b.isControl) continue
        const decoded = await decodeRecordBatch(b.data, { verifyCrc: false })
        for (const r of decoded.records) {
          if (Number(r.offset) >= this.logStartOffset && r.timestamp >= BigInt(timestamp))
            return { offset: Number(r.offset), timestamp: Number(r.timestamp) }
        }
      }
    }
    return undefined
  }

  /** The record with the largest timestamp (ListOffsets -3, KIP-734): the earliest such record. */
  async maxTimestampOffset(upperBound: number): Promise<{ offset: number; timestamp: number } | undefined> {
    let best: StoredBatch | undefined
    for (const b of this.batches()) {
      if (b.lastOffset >= upperBound) break
      if (b.isControl) continue
      if (best === undefined || b.maxTimestamp > best.maxTimestamp) best = b
    }
    if (best === undefined) return undefined
    const decoded = await decodeRecordBatch(best.data, { verifyCrc: false })
    for (const r of decoded.records) {
      if (Number(r.timestamp) === best.maxTimestamp || decoded.timestampType === 'log-append')
        return { offset: Number(r.offset), timestamp: best.maxTimestamp }
    }
    return { offset: best.lastOffset, timestamp: best.maxTimestamp }
  }

  /**
   * Log compaction (cleanup.policy=compact), simplified: every record of the closed segments
   * whose key has a later record anywhere in the log is removed; tombstones (null values) older
   * than delete.retention.ms go too. Batches are rewritten uncompressed with their original
   * offsets, producer fields and timestamps; control batches and empty results are handled
   * like Kafka (a batch whose records all went is dropped). Only records below `upperBound`
   * (the high watermark) are cleaned, and the active segment is never cleaned.
   */
  async compact(upperBound: number, nowMs: number, deleteRetentionMs: number): Promise<number> {
    if (this.segments.length < 2) return 0
    const latest = new Map<string, number>()
    for (const b of this.batches()) {
      if (b.isControl || b.lastOffset >= upperBound) continue
      const decoded = await decodeRecordBatch(b.data, { verifyCrc: false })
      for (const r of decoded.records) if (r.key !== null) latest.set(r.key.toString('base64'), Number(r.offset))
    }
    let removed = 0
    const closed = this.segments.slice(0, -1)
    for (const seg of closed) {
      const kept: StoredBatch[] = []
      for (const b of seg.batches) {
        if (b.isControl || b.lastOffset >= upperBound) {
          kept.push(b)
          continue
        }
        const decoded = await decodeRecordBatch(b.data, { verifyCrc: false })
        const survivors: { offset: number; input: RecordInput }[] = []
        for (const r of decoded.records) {
          const offset = Number(r.offset)
          const keep =
            r.key === null ||
            (latest.get(r.key.toString('base64')) === offset &&
              !(r.value === null && nowMs - Number(r.timestamp) > deleteRetentionMs))
          if (keep)
            survivors.push({
              offset,
              input: { key: r.key, value: r.value, headers: r.headers, timestamp: Number(r.timestamp) },
            })
          else removed++
        }
        if (survivors.length === decoded.records.length) {
          kept.push(b)
          continue
        }
        // Offsets inside a batch are deltas from its base, so to keep every surviving record's
        // original offset (as Kafka's cleaner does) each survivor becomes a one-record batch.
        for (const s of survivors) {
          const data = await encodeRecordBatch({
            records: [s.input],
            baseOffset: BigInt(s.offset),
            partitionLeaderEpoch: b.leaderEpoch,
            producerId: b.producerId,
            producerEpoch: b.producerEpoch,
            baseSequence: b.baseSequence < 0 ? -1 : (b.baseSequence + (s.offset - b.baseOffset)) % 0x80000000,
            transactional: b.isTransactional,
          })
          const header = readBatchHeader(data)
          kept.push({
            ...b,
            baseOffset: s.offset,
            lastOffset: s.offset,
            data,
            maxTimestamp: Number(header.maxTimestamp),
          })
        }
      }
      this.size -= seg.bytes
      seg.batches = kept
      seg.bytes = kept.reduce((n, b) => n + b.data.length, 0)
      this.size += seg.bytes
    }
    this.segments = this.segments.filter((s, i) => s.batches.length > 0 || i === this.segments.length - 1)
    if (removed > 0) this.observer?.rewritten()
    return removed
  }
}
