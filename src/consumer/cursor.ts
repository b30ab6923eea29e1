// The Reader's state for one partition it reads: where the next fetch starts, where the
// application is (the consumer position), the leader it is fetched from, and the watermarks the
// last fetch response reported (for lag). Java keeps the same in SubscriptionState's
// TopicPartitionState; franz-go calls it a cursor.

import type { IsolationLevel } from './fetch-result.js'
import type { Ownership } from './ownership.js'

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export class PartitionCursor {
  readonly topic: string
  readonly partition: number
  readonly key: string

  /** Next offset to fetch; -1n while it is being resolved (see resetTo). */
  fetchOffset = -1n
  /** Next offset to hand to the application (Java's position); -1n until known. */
  position = -1n
  /**
   * A ListOffsets timestamp (FirstOffset -2n, LastOffset -1n, or a time) that the fetch position
   * must be looked up from before fetching; null when fetchOffset is known.
   */
  resetTo: bigint | null = null
  /** Node id of the leader it is fetched from; -1 when not known (metadata is refreshed). */
  leader = -1
  /**
   * KIP-392: the replica the leader pointed us at (preferredReadReplica), fetched from instead of
   * the leader until readReplicaUntil; -1 for the leader.
   */
  readReplica = -1
  readReplicaUntil = 0
  /** The leader epoch from metadata, sent as currentLeaderEpoch so a stale leader is detected (KIP-320). */
  leaderEpoch = -1
  /**
   * KIP-320: the leader epoch of the last batch fetched, sent as Fetch's lastFetchedEpoch so the
   * leader can say where our log and its log diverge; -1 when unknown (after a seek or a reset).
   */
  lastFetchedEpoch = -1
  /** The leader epoch of the last message handed to the application (the position's epoch); -1 when unknown. */
  positionEpoch = -1
  /**
   * KIP-320: the position must be checked with OffsetForLeaderEpoch before fetching on (a leader
   * change, a start from a committed offset with an epoch, OFFSET_OUT_OF_RANGE); Java's
   * AWAIT_VALIDATION. Only meaningful while lastFetchedEpoch is known.
   */
  awaitingValidation = false
  /** After OFFSET_OUT_OF_RANGE: if the validation finds no truncation, reset by the startOffset policy. */
  resetIfValid = false
  /** The topic id the position belongs to (null until metadata gave a non-zero one). */
  topicId: string | null = null
  /** Included in a fetch or ListOffsets in flight. */
  inFlight = false
  paused = false
  /** No longer assigned: answers for it are dropped. */
  removed = false
  /** A non-retriable failure (corrupt data, authorization): not fetched again until a seek. */
  failed: Error | null = null
  /** Not fetched again before this time (ms since the epoch), after an error. */
  backoffUntil = 0
  /** Consecutive failures, for the backoff. */
  failures = 0
  /** Bumped on every seek/pause, so answers to requests sent before it are dropped. */
  epoch = 0
  /** Chunks of this partition waiting in the queue. */
  queuedChunks = 0
  /** Group mode: the ownership the partition is read under, stamped on every message fetched. */
  owner: Ownership | null = null
  /**
   * The last stretch [skippedFrom, skippedTo) the position moved over in fetches that handed out
   * nothing (only control records or aborted data, e.g. a final transaction marker fetched after
   * the last message): a commit of skippedFrom may cover it. -1n when none since the last seek.
   */
  skippedFrom = -1n
  skippedTo = -1n

  highWatermark = -1n
  lastStableOffset = -1n
  logStartOffset = -1n

  constructor(topic: string, partition: number) {
    this.topic = topic
    this.partition = partition
    this.key = partitionKey(topic, partition)
  }

  /** Moves the fetch position (and the consumer position): a seek, a reset, or the start. */
  setPosition(offset: bigint, epoch = -1): void {
    this.fetchOffset = offset
    this.position = offset
    this.resetTo = null
    this.lastFetchedEpoch = epoch
    this.positionEpoch = epoch
    this.skippedFrom = -1n
    this.skippedTo = -1n
  }

  /** Forget the position and look it up with ListOffsets at `timestamp`. */
  resetToTimestamp(timestamp: bigint): void {
    this.fetchOffset = -1n
    this.resetTo = timestamp
    this.lastFetchedEpoch = -1
  }

  /**
   * Messages after the position: Java's records-lag, from the last stable offset under
   * read_committed (records past it cannot be read yet) and from the high watermark otherwise.
   * Null until a fetch response and a position are known.
   */
  lag(isolation: IsolationLevel): bigint | null {
    const end =
      isolation === 'read_committed' && this.lastStableOffset >= 0n ? this.lastStableOffset : this.highWatermark
    if (end < 0n || this.position < 0n) return null
    return end > this.position ? end - this.position : 0n
  }
}
