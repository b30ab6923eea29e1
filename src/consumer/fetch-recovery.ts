// What a partition-level error or a diverged log does to a cursor, whichever request met it
// (Fetch, ListOffsets, OffsetForLeaderEpoch): relocate it, validate or reset its position, back
// off, truncate to the leader's log (KIP-320), or fail it until the application seeks.

import { backoffDelay } from '../cluster/retry.js'
import { KafkaError } from '../errors.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import type { PartitionCursor } from './cursor.js'
import { LogTruncatedError } from './errors.js'
import type { Placement } from './fetch-placement.js'
import type { FetcherOptions } from './fetcher.js'

/** Errors in a partition that mean "ask the metadata who leads it now". */
const RELOCATE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
])

export class Recovery {
  readonly #o: FetcherOptions
  readonly #placement: Placement
  readonly #kick: () => void

  constructor(options: FetcherOptions, placement: Placement, kick: () => void) {
    this.#o = options
    this.#placement = placement
    this.#kick = kick
  }

  /** Stops the partition with `error`; the application gets it on its next read. */
  fail(cursor: PartitionCursor, error: Error): void {
    if (cursor.removed || cursor.failed !== null) return
    cursor.failed = error
    this.#o.stats.errors++
    this.#o.queue.pushError(cursor, error, true)
  }

  /**
   * KIP-320: the leader says our log diverged from its log at `endOffset` (the end of our last
   * fetched epoch in its log). What is queued of the partition is dropped and fetching resumes
   * at the divergence point, or at the application's position if that is before it (Java's
   * SubscriptionState.maybeCompleteValidation). Messages the application had read at or past the
   * divergence are reported (LogTruncatedError, once); nothing is replayed from the start. An
   * undefined answer (the leader knows nothing of the epoch) falls back to the reset policy,
   * reported the same way.
   */
  truncate(cursor: PartitionCursor, epoch: number, endOffset: bigint): void {
    const o = this.#o
    const position = cursor.position >= 0n ? cursor.position : cursor.fetchOffset
    cursor.epoch++
    o.queue.drop(cursor)
    cursor.failures = 0
    o.stats.errors++
    if (epoch < 0 || endOffset < 0n) {
      cursor.resetToTimestamp(o.resetTo)
      o.queue.pushError(cursor, new LogTruncatedError(cursor.topic, cursor.partition, -1n, position), false)
    } else if (endOffset < position) {
      cursor.setPosition(endOffset, epoch)
      o.queue.pushError(cursor, new LogTruncatedError(cursor.topic, cursor.partition, endOffset, position), false)
    } else {
      // Only what was fetched ahead (not handed out) diverged: fetch again from the position.
      cursor.setPosition(position, cursor.positionEpoch)
    }
    this.#kick()
  }

  /**
   * OFFSET_OUT_OF_RANGE at a position that was not truncated (retention removed it, or no epoch
   * is known): the startOffset policy applies (Java's auto.offset.reset). Records between the
   * position and where reading resumes are never seen by this Reader, so it is logged (Java
   * logs it too), never silent.
   */
  resetOutOfRange(cursor: PartitionCursor): void {
    const position = cursor.position >= 0n ? cursor.position : cursor.fetchOffset
    this.#o.logger?.warn(
      {
        topic: cursor.topic,
        partition: cursor.partition,
        offset: String(position),
        resetTo: describeReset(this.#o.resetTo),
      },
      'fetch position out of range (not truncated: retention or a deleted log start); resetting by startOffset',
    )
    cursor.resetToTimestamp(this.#o.resetTo)
  }

  /** A per-partition error: relocate, reset, back off, or give up on the partition. */
  partitionError(cursor: PartitionCursor, code: number, apiName: string, nodeId: number): void {
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      // A position whose epoch we know may be past the end of a truncated log: ask where the
      // epoch ends first and resume there. Otherwise (it fell off the log by retention, or no
      // epoch is known) Java's auto.offset.reset: the startOffset policy.
      if (cursor.lastFetchedEpoch >= 0 && !cursor.resetIfValid) {
        cursor.awaitingValidation = true
        cursor.resetIfValid = true
      } else {
        cursor.resetIfValid = false
        this.resetOutOfRange(cursor)
      }
      return
    }
    this.#o.stats.errors++
    cursor.failures++
    cursor.backoffUntil = Date.now() + backoffDelay(this.#o.backoff, cursor.failures)
    if (RELOCATE.has(code) || errorInfo(code).staleMetadata === true) {
      this.#placement.lostLeader(cursor)
      return
    }
    if (errorInfo(code).retriable) return // OFFSET_NOT_AVAILABLE, UNKNOWN_LEADER_EPOCH, ...: try again later
    this.fail(
      cursor,
      KafkaError.fromCode(code, { topic: cursor.topic, partition: cursor.partition, apiName, broker: nodeId }),
    )
  }
}

/** The startOffset policy as a log field: ListOffsets' -2 / -1, or a timestamp. */
function describeReset(timestamp: bigint): string {
  if (timestamp === -2n) return 'earliest'
  if (timestamp === -1n) return 'latest'
  return `the first offset at or after ${new Date(Number(timestamp)).toISOString()}`
}
