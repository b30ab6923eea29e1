// Which offsets a commit of some messages means (commitMessages' arguments turned into offsets):
// the highest offset + 1 per partition and ownership, past skipped stretches, with metadata.
// The committer (commits.ts) then decides whether and when they are sent.

import { KafkaTsError } from '../errors.js'
import type { Message } from '../message.js'
import type { CommitMetadata, CommitOffset } from './commits.js'
import type { PartitionCursor } from './cursor.js'
import type { FetchedMessage } from './fetch-result.js'

/**
 * A commit of where a stretch of records never handed out starts (PartitionCursor.skippedFrom)
 * covers the stretch: the same rule as FetchedMessage.nextOffset, for a stretch fetched later.
 */
export function pastSkipped(
  offsets: CommitOffset[],
  cursorOf: (topic: string, partition: number) => PartitionCursor | undefined,
): CommitOffset[] {
  for (const o of offsets) {
    const cursor = cursorOf(o.topic, o.partition)
    if (cursor !== undefined && cursor.skippedFrom >= 0n && o.offset === cursor.skippedFrom) o.offset = cursor.skippedTo
  }
  return offsets
}

/**
 * Stamps each offset with the metadata `metadata` gives for its partition (commitMessages'
 * `metadata` option); anything but a function, or an answer that is not a string or undefined,
 * is a KAFKATS_INVALID_ARGUMENT error before anything is committed.
 */
export function withMetadata(offsets: CommitOffset[], metadata: CommitMetadata | undefined): CommitOffset[] {
  if (metadata === undefined) return offsets
  if (typeof metadata !== 'function')
    throw new KafkaTsError(
      'KAFKATS_INVALID_ARGUMENT',
      'commitMessages: options.metadata must be a function (topic, partition) => string | undefined',
    )
  for (const o of offsets) {
    const m: unknown = metadata(o.topic, o.partition)
    if (m !== undefined && typeof m !== 'string')
      throw new KafkaTsError(
        'KAFKATS_INVALID_ARGUMENT',
        `commitMessages: options.metadata gave ${typeof m} for ${o.topic}/${o.partition}, not a string or undefined`,
      )
    o.metadata = m
  }
  return offsets
}

/**
 * For each partition, the highest offset + 1 among the messages (what a commit records), per
 * ownership the messages were fetched under: the committer refuses those of a replaced one.
 */
export function highestPerPartition(messages: readonly Message[]): CommitOffset[] {
  return onePartition(messages) ?? highestOfMany(messages)
}

function invalid(i: number): KafkaTsError {
  return new KafkaTsError(
    'KAFKATS_INVALID_ARGUMENT',
    `commitMessages: message ${i} has no topic, partition and offset (pass messages this Reader returned)`,
  )
}

/** What a commit records past one message (the rule of highestPerPartition). */
function nextOf(offset: bigint, nextOffset: unknown): bigint {
  return typeof nextOffset === 'bigint' && nextOffset > offset ? nextOffset : offset + 1n
}

/**
 * The usual case, a batch (one partition, one ownership) or one message: the highest offset
 * without a key string and a Map per message (they were 9% of a batches() consumer's CPU).
 * Undefined when the messages span partitions or ownerships.
 */
function onePartition(messages: readonly Message[]): CommitOffset[] | undefined {
  if (messages.length === 0) return []
  const first = messages[0] as Partial<FetchedMessage> | null | undefined
  const topic = first?.topic
  const partition = first?.partition
  const assignment = first?.assignment
  let best: Message | undefined
  let bestNext = 0n
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Partial<FetchedMessage> | undefined
    if (typeof m?.topic !== 'string' || typeof m.partition !== 'number' || typeof m.offset !== 'bigint')
      throw invalid(i)
    if (m.topic !== topic || m.partition !== partition || m.assignment !== assignment) return undefined
    const next = nextOf(m.offset, m.nextOffset)
    if (best === undefined || next > bestNext) {
      best = m as Message
      bestNext = next
    }
  }
  const { leaderEpoch } = best as Partial<FetchedMessage>
  return [{ topic: topic!, partition: partition!, offset: bestNext, assignment, leaderEpoch }]
}

function highestOfMany(messages: readonly Message[]): CommitOffset[] {
  const out = new Map<unknown, Map<string, CommitOffset>>()
  for (const [i, m] of messages.entries()) {
    if (typeof m?.topic !== 'string' || typeof m.partition !== 'number' || typeof m.offset !== 'bigint')
      throw invalid(i)
    const { assignment, leaderEpoch, nextOffset } = m as Partial<FetchedMessage>
    let byPartition = out.get(assignment)
    if (byPartition === undefined) out.set(assignment, (byPartition = new Map()))
    const key = `${m.topic}\u0000${m.partition}`
    // Past the control records and aborted data that follow the message, when it is known.
    const next = nextOf(m.offset, nextOffset)
    const current = byPartition.get(key)
    if (current === undefined || next > current.offset)
      byPartition.set(key, { topic: m.topic, partition: m.partition, offset: next, assignment, leaderEpoch })
  }
  return [...out.values()].flatMap((byPartition) => [...byPartition.values()])
}
