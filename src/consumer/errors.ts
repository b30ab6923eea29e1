// Errors the Reader throws on its own account (broker error codes arrive as KafkaError).

import { KafkaTsError, type KafkaTsErrorOptions } from '../errors.js'

export interface TopicPartitionOffset {
  topic: string
  partition: number
  /** The offset that was to be committed (the next offset to read). */
  offset: bigint
}

/**
 * Why a commit was refused:
 * - 'not-owned': this member has not owned the partition continuously since the message was
 *   fetched: it was revoked in a rebalance (perhaps assigned back since, and restarted from the
 *   committed offset), or never assigned. Committing it could overwrite the progress of the
 *   member that owns it now, or mark as done messages that are delivered again.
 * - 'fenced': the group coordinator no longer knows this member or its generation
 *   (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID): it was removed from the group
 *   (session timeout) or the group rebalanced without it. The member rejoins; its partitions are
 *   lost (onLost). Also the reason for messages fetched before such a loss, committed after the
 *   member rejoined, even if it owns the partition again.
 * - 'rebalanced': the group moved to a new generation while the commit was in flight, and the
 *   coordinator refused it under the old one (ILLEGAL_GENERATION). It is never sent again under
 *   the new generation, even when the member kept the partition (cooperative rebalancing).
 * - 'closed': the Reader closed before the commit could be sent.
 * - 'rewind': the offset is below the one this member last committed (or found committed, or
 *   marked) for the partition; pass `{ allowRewind: true }` to move the group's offset back.
 */
export type CommitRejectReason = 'not-owned' | 'fenced' | 'rebalanced' | 'closed' | 'rewind'

/**
 * A commit that was not applied, for the partitions listed (Java's CommitFailedException).
 * Nothing was written for them: a rejected commit never moves the group's offset. Not retriable
 * as such: the messages will be delivered again to whichever member owns the partition.
 */
export class CommitRejectedError extends KafkaTsError {
  readonly retriable = false
  readonly reason: CommitRejectReason
  readonly partitions: readonly TopicPartitionOffset[]

  constructor(
    reason: CommitRejectReason,
    partitions: readonly TopicPartitionOffset[],
    detail: string,
    options?: KafkaTsErrorOptions,
  ) {
    const list = partitions.map((p) => `${p.topic}-${p.partition}@${p.offset}`).join(', ')
    super('KAFKATS_COMMIT_REJECTED', `commit rejected (${reason}) for ${list}: ${detail}`, options)
    this.reason = reason
    this.partitions = partitions
  }
}

/** A call that does not fit the Reader's mode or state (commit without a group, seek of an unassigned partition). */
export class ReaderStateError extends KafkaTsError {
  readonly retriable = false

  constructor(message: string) {
    super('KAFKATS_READER_STATE', message)
  }
}

/**
 * KIP-320: the partition's log was truncated below what this Reader had handed out (an unclean
 * leader election, or acks=1 data lost with its leader): the messages at offsets
 * [firstLostOffset, endLostOffset) that the application read are no longer in the log, and
 * others may be written at those offsets. Raised once, by the next read (after the messages of
 * other partitions fetched before it); reading then goes on at `resumeOffset`, never from the
 * start of the partition. firstLostOffset and resumeOffset are -1n when the leader could not
 * say where the logs diverge: the Reader then restarts the partition from its startOffset policy.
 */
export class LogTruncatedError extends KafkaTsError {
  readonly retriable = false
  readonly topic: string
  readonly partition: number
  readonly firstLostOffset: bigint
  readonly endLostOffset: bigint
  readonly resumeOffset: bigint

  constructor(topic: string, partition: number, firstLostOffset: bigint, endLostOffset: bigint) {
    const range =
      firstLostOffset >= 0n
        ? `offsets ${firstLostOffset}..${endLostOffset - 1n} read from it are no longer in the log; reading resumes at ${firstLostOffset}`
        : `the leader could not say where; messages before ${endLostOffset} may be lost, and reading restarts from the startOffset policy`
    super('KAFKATS_LOG_TRUNCATED', `partition ${topic}-${partition} was truncated: ${range}`)
    this.topic = topic
    this.partition = partition
    this.firstLostOffset = firstLostOffset
    this.endLostOffset = endLostOffset
    this.resumeOffset = firstLostOffset
  }
}

/**
 * The application held records longer than `maxPollInterval` without reading again (Java's
 * max.poll.interval.ms, KIP-62): the member left the group so others could take its partitions
 * over, which lost them here (onLost; commits of what was held are refused as 'fenced'). Thrown
 * once by the next read, which also makes the member rejoin; reading on is fine.
 */
export class PollIntervalExceededError extends KafkaTsError {
  readonly retriable = true
  readonly maxPollInterval: number

  constructor(maxPollInterval: number) {
    super(
      'KAFKATS_POLL_INTERVAL_EXCEEDED',
      `records were held for more than maxPollInterval (${maxPollInterval} ms) without reading again: ` +
        'the member left the group and its partitions went to others; it rejoins now',
    )
    this.maxPollInterval = maxPollInterval
  }
}

/**
 * The topic (or the partition) a direct Reader reads does not exist, and did not appear within
 * metadataTimeout. Reads reject with it while that lasts; they go on once the topic exists
 * (created, or auto-created with allowAutoTopicCreation).
 */
export class UnknownTopicError extends KafkaTsError {
  readonly retriable = true
  readonly topic: string
  readonly partition: number | undefined

  constructor(topic: string, partition: number | undefined, waitedMs: number) {
    const what = partition === undefined ? `topic '${topic}'` : `partition ${topic}-${partition}`
    super(
      'KAFKATS_UNKNOWN_TOPIC',
      `${what} does not exist (waited ${waitedMs} ms, metadataTimeout); create it, or set allowAutoTopicCreation if the brokers allow it`,
    )
    this.topic = topic
    this.partition = partition
  }
}
