// Ownership stamps: which stretch of owning a partition a fetched message belongs to.
//
// A group member owns a partition from one assignment until the next revocation or loss. A
// message fetched in one stretch must not be committed in a later one: an eager rebalance that
// hands the partition back restarts it from the committed offset, so committing the old batch
// would store offsets whose messages are then delivered again (issue 11). Each message the
// Reader hands out carries its stretch's id (`FetchedMessage.assignment`, a plain number set in
// the message's object literal: a hidden or later-added property costs several hundred ns per
// message), and the committer checks it against the partition's current ownership.

import type { TopicPartition } from './config.js'

/**
 * One stretch of owning a partition: created when the partition is assigned, invalidated when
 * it is revoked or lost. A commit is only ever sent under the ownership its message was fetched
 * in, so a partition revoked and assigned back in between does not carry old commits across.
 */
export interface Ownership extends TopicPartition {
  /** Unique within the Reader, from 1 (0 on a message means "not fetched in a group"). */
  readonly id: number
  valid: boolean
  /** Invalidated because the member was fenced (lost), rather than revoked in a rebalance. */
  lost: boolean
}

/** Stamps messages with the ownership they were fetched under. */
export function stampAssignment(messages: readonly { assignment: number }[], ownership: Ownership): void {
  const id = ownership.id
  for (const m of messages) m.assignment = id
}
