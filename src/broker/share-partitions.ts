// Share-partitions (KIP-932): what a share group has delivered of one topic partition, kept by
// the partition's leader, after Kafka 4.4's SharePartition and checked against its answers
// (test/fixtures/share-answers).
//
// - The share-partition start offset (SPSO) is where the leader first loads it: the log end with
//   share.auto.offset.reset latest (the default), the log start with earliest. Records from the
//   SPSO up to the end offset (SPEO, exclusive) are in flight: available, acquired (by one
//   member, under a lock), acknowledged or archived. The SPSO moves past acknowledged and
//   archived records; records at or past the SPEO are available and never delivered.
// - A fetch acquires whole record batches (Kafka serves a batch whole, so maxRecords is a soft
//   limit at a batch boundary), skipping records that are not available; each acquisition counts
//   one delivery. At most `maxInFlight` records past the SPSO are in flight
//   (group.share.partition.max.record.locks).
// - Acknowledgements: accept -> acknowledged, release -> available, reject -> archived, renew
//   (v2) -> the lock starts again. Only records the member has acquired can be acknowledged
//   (else INVALID_RECORD_STATE); a range past the SPEO or an unknown type is INVALID_REQUEST.
// - A released record or one whose lock expired becomes available again, or archived once it
//   has been delivered `deliveryCountLimit` times (group.share.delivery.count.limit).
// - Locks expire lazily: every operation first releases the locks that have run out, so what a
//   client sees is what Kafka's timers give, without a timer per record.
// - Leadership: Kafka persists the in-flight state with the share coordinator and a new leader
//   loads it, acquired records becoming available again. Here the state stays in the cluster
//   and a new leader (or a restarted one) releases what the old leader had acquired
//   (deliveries still counted); the state is not written to a data dir.

import { ErrorCode } from '../protocol/error-codes.js'
import type { StoredBatch } from './log.js'
import type { Partition } from './topics.js'

export const AcknowledgeType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const

type RecordState = 'available' | 'acquired' | 'acknowledged' | 'archived'

interface InFlight {
  state: RecordState
  deliveryCount: number
  memberId: string | null
  lockExpiresAt: number
}

export interface SharePartitionLimits {
  lockDurationMs: number
  deliveryCountLimit: number
  maxInFlight: number
}

export interface AcquiredRange {
  firstOffset: number
  lastOffset: number
  deliveryCount: number
}

export interface Acquisition {
  acquired: AcquiredRange[]
  /** The whole batches holding the acquired records, in offset order. */
  batches: StoredBatch[]
}

export interface AckBatch {
  firstOffset: bigint
  lastOffset: bigint
  acknowledgeTypes: number[]
}

export class SharePartition {
  /** SPSO: every record below it is acknowledged or archived. */
  startOffset: number
  /** SPEO (exclusive): records at or past it have never been acquired. */
  endOffset: number
  private readonly records = new Map<number, InFlight>()

  constructor(
    readonly groupId: string,
    readonly partition: Partition,
    /** The broker that leads the partition while this state is in use. */
    public leader: number,
    startOffset: number,
  ) {
    this.startOffset = startOffset
    this.endOffset = startOffset
  }

  /** Releases the records whose lock ran out (lazily, at every operation). */
  expireLocks(now: number, limits: SharePartitionLimits): void {
    for (const r of this.records.values()) {
      if (r.state === 'acquired' && r.lockExpiresAt <= now) this.release(r, limits)
    }
    this.advanceStart()
  }

  /** A new leader: what the old one had acquired is available again (deliveries counted). */
  releaseAll(limits: SharePartitionLimits, memberId?: string): void {
    for (const r of this.records.values()) {
      if (r.state === 'acquired' && (memberId === undefined || r.memberId === memberId)) this.release(r, limits)
    }
    this.advanceStart()
  }

  /** Whether a fetch could acquire something now (for long polls). */
  hasAvailable(upperBound: number): boolean {
    const start = Math.max(this.startOffset, this.partition.logStartOffset)
    for (let o = start; o < Math.min(this.endOffset, upperBound); o++) {
      const r = this.records.get(o)
      if (r === undefined || r.state === 'available') return true
    }
    return this.endOffset < upperBound
  }

  /** Acquires available records from whole batches below `upperBound` (the high watermark). */
  acquire(
    memberId: string,
    maxRecords: number,
    upperBound: number,
    now: number,
    limits: SharePartitionLimits,
  ): Acquisition {
    // Records deleted from the log (retention, DeleteRecords) are archived.
    const logStart = this.partition.logStartOffset
    if (this.startOffset < logStart) {
      for (let o = this.startOffset; o < Math.min(logStart, this.endOffset); o++) this.records.delete(o)
      this.startOffset = logStart
      this.endOffset = Math.max(this.endOffset, logStart)
    }
    const out: Acquisition = { acquired: [], batches: [] }
    let count = 0
    const inFlightLimit = this.startOffset + limits.maxInFlight
    for (const b of this.partition.log.batches()) {
      if (b.lastOffset < this.startOffset) continue
      if (b.baseOffset >= upperBound || b.lastOffset >= upperBound) break
      if (count >= maxRecords) break
      if (b.isControl) {
        // Transaction markers are never delivered.
        for (let o = Math.max(b.baseOffset, this.startOffset); o <= b.lastOffset; o++) this.archive(o)
        continue
      }
      let took = false
      for (let o = Math.max(b.baseOffset, this.startOffset); o <= b.lastOffset; o++) {
        if (o >= inFlightLimit) break
        let r = this.records.get(o)
        if (r === undefined) {
          if (o < this.endOffset) continue
          r = { state: 'available', deliveryCount: 0, memberId: null, lockExpiresAt: 0 }
          this.records.set(o, r)
          this.endOffset = o + 1
        }
        if (r.state !== 'available') continue
        r.state = 'acquired'
        r.deliveryCount++
        r.memberId = memberId
        r.lockExpiresAt = now + limits.lockDurationMs
        count++
        took = true
        const last = out.acquired[out.acquired.length - 1]
        if (last !== undefined && last.lastOffset === o - 1 && last.deliveryCount === r.deliveryCount)
          last.lastOffset = o
        else out.acquired.push({ firstOffset: o, lastOffset: o, deliveryCount: r.deliveryCount })
      }
      if (took) out.batches.push(b)
      if (b.lastOffset + 1 >= inFlightLimit) break
    }
    return out
  }

  /** Applies a member's acknowledgements; all or nothing. Returns an error code (0 = done). */
  acknowledge(memberId: string, batches: AckBatch[], now: number, limits: SharePartitionLimits): number {
    const steps: [offset: number, type: number][] = []
    for (const b of batches) {
      const first = Number(b.firstOffset)
      const last = Number(b.lastOffset)
      const span = last - first + 1
      if (first > last || b.acknowledgeTypes.length === 0) return ErrorCode.INVALID_REQUEST
      if (b.acknowledgeTypes.length !== 1 && b.acknowledgeTypes.length !== span) return ErrorCode.INVALID_REQUEST
      if (b.acknowledgeTypes.some((t) => t < AcknowledgeType.GAP || t > AcknowledgeType.RENEW))
        return ErrorCode.INVALID_REQUEST
      if (last >= this.endOffset) return ErrorCode.INVALID_REQUEST
      // Offsets below the SPSO are settled already (another member's acknowledgement after a
      // lock timed out): Kafka skips them without an error.
      for (let o = Math.max(first, this.startOffset); o <= last; o++)
        steps.push([o, b.acknowledgeTypes.length === 1 ? b.acknowledgeTypes[0]! : b.acknowledgeTypes[o - first]!])
    }
    for (const [o] of steps) {
      const r = this.records.get(o)
      if (r === undefined || r.state !== 'acquired' || r.memberId !== memberId) return ErrorCode.INVALID_RECORD_STATE
    }
    for (const [o, type] of steps) {
      const r = this.records.get(o)!
      if (type === AcknowledgeType.ACCEPT) this.settle(r, 'acknowledged')
      else if (type === AcknowledgeType.RELEASE) this.release(r, limits)
      else if (type === AcknowledgeType.RENEW) r.lockExpiresAt = now + limits.lockDurationMs
      else this.settle(r, 'archived') // REJECT, and GAP (no record there)
    }
    this.advanceStart()
    return 0
  }

  private settle(r: InFlight, state: 'acknowledged' | 'archived'): void {
    r.state = state
    r.memberId = null
  }

  private release(r: InFlight, limits: SharePartitionLimits): void {
    r.memberId = null
    r.state = r.deliveryCount >= limits.deliveryCountLimit ? 'archived' : 'available'
  }

  private archive(offset: number): void {
    const r = this.records.get(offset)
    if (r !== undefined) r.state = 'archived'
    else if (offset >= this.endOffset) {
      this.records.set(offset, { state: 'archived', deliveryCount: 0, memberId: null, lockExpiresAt: 0 })
      this.endOffset = offset + 1
    }
    this.advanceStart()
  }

  private advanceStart(): void {
    for (;;) {
      const r = this.records.get(this.startOffset)
      if (r === undefined || (r.state !== 'acknowledged' && r.state !== 'archived')) break
      this.records.delete(this.startOffset)
      this.startOffset++
    }
  }
}

/** Every share-partition of the cluster, per (group, topic id, partition). */
export class SharePartitions {
  private readonly byKey = new Map<string, SharePartition>()

  constructor(
    /** The group's limits (its share.* group configs over the broker's). */
    readonly limitsOf: (groupId: string) => SharePartitionLimits,
    private readonly autoOffsetReset: (groupId: string) => 'latest' | 'earliest',
  ) {}

  /** The share-partition as `leader` serves it: loaded on first use, released after a leader change. */
  get(groupId: string, topicId: string, partition: Partition, leader: number, now: number): SharePartition {
    const key = `${groupId}\u0000${topicId}\u0000${partition.index}`
    let sp = this.byKey.get(key)
    if (sp === undefined || sp.partition !== partition) {
      const start = this.autoOffsetReset(groupId) === 'earliest' ? partition.logStartOffset : partition.log.endOffset
      sp = new SharePartition(groupId, partition, leader, start)
      this.byKey.set(key, sp)
    } else if (sp.leader !== leader) {
      sp.releaseAll(this.limitsOf(groupId))
      sp.leader = leader
    }
    sp.expireLocks(now, this.limitsOf(groupId))
    return sp
  }

  /** A member left its group or closed its session: its acquired records are available again. */
  releaseMember(groupId: string, memberId: string, only?: (sp: SharePartition) => boolean): void {
    const prefix = `${groupId}\u0000`
    for (const [key, sp] of this.byKey) {
      if (key.startsWith(prefix) && (only === undefined || only(sp))) sp.releaseAll(this.limitsOf(groupId), memberId)
    }
  }

  /** Broker `leader` stopped: every share-partition it led releases its acquired records. */
  leaderGone(leader: number): void {
    for (const sp of this.byKey.values()) {
      if (sp.leader === leader) sp.releaseAll(this.limitsOf(sp.groupId))
    }
  }
}
