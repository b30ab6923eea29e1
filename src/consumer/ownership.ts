// Ownership stamps: which stretch of owning a partition a fetched message belongs to.
//
// A group member owns a partition from one assignment until the next revocation or loss. A
// message fetched in one stretch must not be committed in a later one: an eager rebalance that
// hands the partition back restarts it from the committed offset, so committing the old batch
// would store offsets whose messages are then delivered again (issue 11). Each message the
// Reader hands out carries its stretch (a non-enumerable symbol property, so printing, spreading
// or comparing messages is unaffected), and the committer checks it.

import type { TopicPartition } from './config.js'

/**
 * One stretch of owning a partition: created when the partition is assigned, invalidated when
 * it is revoked or lost. A commit is only ever sent under the ownership its message was fetched
 * in, so a partition revoked and assigned back in between does not carry old commits across.
 */
export interface Ownership extends TopicPartition {
  valid: boolean
  /** Invalidated because the member was fenced (lost), rather than revoked in a rebalance. */
  lost: boolean
}

const OWNERSHIP: unique symbol = Symbol('kafkats.ownership')

/** Records on each message the ownership it was fetched under. */
export function stampOwnership(messages: readonly object[], ownership: Ownership): void {
  const descriptor = { value: ownership, enumerable: false, writable: false, configurable: false }
  for (const m of messages) Object.defineProperty(m, OWNERSHIP, descriptor)
}

/** The ownership a message was fetched under; undefined for messages built by hand. */
export function ownershipOf(message: object): Ownership | undefined {
  return (message as { [OWNERSHIP]?: Ownership })[OWNERSHIP]
}
